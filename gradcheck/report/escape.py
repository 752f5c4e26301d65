"""Any string a submission can produce, made safe for every writer.

A submission controls much of the text that reaches a report: exception messages, the names it
returns, the file name it was handed in under. Such text may hold NUL and other control
characters (invalid in XML), ANSI escape sequences (which act on a terminal), lone surrogates
(which UTF-8 cannot encode, and strict JSON parsers reject), bidirectional overrides (which make
a line read other than it is), ``<script>``, ``]]>`` or a spreadsheet formula. Every writer
passes its strings through ``clean`` and then through the escaping of its own format, which is
defined here too, so that no writer has a rule of its own.
"""

from __future__ import annotations

import html
import math
import re
import xml.etree.ElementTree as ET
from typing import Any

__all__ = [
    "EXCERPT_CHARS",
    "clean",
    "clean_json",
    "csv_cell",
    "excerpt",
    "html_text",
    "markdown_cell",
    "one_line",
    "xml_document",
]

# What a student is shown of any text that may carry a submission's exception message.
EXCERPT_CHARS = 200

# C0 controls but tab and newline, DEL and C1, lone surrogates, the line and paragraph
# separators, zero-width and bidirectional formatting, and the two non-characters XML forbids.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufffe\uffff]"
)
_WHITESPACE = re.compile(r"\s+")
_MARKDOWN = re.compile(r"[\\|`\[\]]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object) -> str:
    """``str(text)`` with every unsafe character written as a visible escape (``\\x1b``,
    ``\\x00``, ``\\ud800``); tabs and newlines are kept, everything else is unchanged."""
    return _UNSAFE.sub(_escaped, text if isinstance(text, str) else str(text))


def one_line(text: object) -> str:
    """``clean(text)`` on one line: every run of white space becomes one space."""
    return _WHITESPACE.sub(" ", clean(text)).strip()


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of ``one_line(text)``, an ellipsis marking a cut."""
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def html_text(text: object) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape(clean(text), quote=True)


def markdown_cell(text: object) -> str:
    """A Markdown table cell: one line; ``|``, backslash, backticks and brackets
    backslash-escaped; ``&``, ``<`` and ``>`` as entities, so no HTML gets through."""
    line = _MARKDOWN.sub(lambda m: "\\" + m.group(), one_line(text))
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def csv_cell(value: object) -> object:
    """A CSV cell: numbers as they are; text cleaned, and prefixed with ``'`` where a
    spreadsheet would read it as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = value if isinstance(value, str) else str(value)
        cleaned = clean(text)
        return "'" + cleaned if text.startswith(_FORMULA_START) else cleaned
    return value


def clean_json(data: Any) -> Any:
    """JSON-ready data with every string (keys too) cleaned and non-finite floats written as
    their repr (``"nan"``), so that the strictest parser accepts the document."""
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, dict):
        return {clean(key): clean_json(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [clean_json(value) for value in data]
    if isinstance(data, float) and not math.isfinite(data):
        return repr(data)
    return data


def xml_document(root: ET.Element) -> str:
    """``root`` as an indented XML document, every text, tail and attribute cleaned first
    (ElementTree escapes ``<``, ``&`` and quotes but writes control characters as they are)."""
    for element in root.iter():
        if element.text is not None:
            element.text = clean(element.text)
        if element.tail is not None:
            element.tail = clean(element.tail)
        for key, value in element.attrib.items():
            element.attrib[key] = clean(value)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
