"""The README's fenced code blocks, as data: language, text, line and section.

A block is one of:
- ``python``, ``sh`` or ``bash``: runs as written (tests/docs/test_readme.py runs it, or lists
  it as excluded with its reason);
- ``toml``: an assignment file, loaded by gradcheck's own loader;
- ``text``: output or a formula, shown and not run.

A code block preceded by ``<!-- excerpt: PATH -->`` is a piece of the file PATH: its lines
must appear in that file in the same order, and the file is what runs. A block or file that
defines ``test_`` functions runs under pytest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LANGUAGES", "Block", "blocks", "is_excerpt_of"]

LANGUAGES = frozenset({"python", "sh", "bash", "toml", "text"})
_TRAILING_COMMENT = re.compile(r"\s+#\s")
_EXCERPT = re.compile(r"<!--\s*excerpt:\s*(\S+)\s*-->")


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int  # of the opening fence, 1-based
    section: str  # the nearest heading above it
    excerpt_of: str | None = None

    @property
    def key(self) -> str:
        """The block's first line that is not blank or a comment, without its trailing
        comment."""
        for line in self.text.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                return _TRAILING_COMMENT.split(stripped, maxsplit=1)[0]
        return ""

    @property
    def name(self) -> str:
        """Section and key: how exclusions name the block, stable as lines move."""
        return f"{self.section}: {self.key}"

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.section}): {self.key[:60]}"


def blocks(readme: Path) -> list[Block]:
    """Every fenced block of ``readme``, in order. An unclosed fence raises ValueError."""
    found: list[Block] = []
    section, excerpt = "", None
    lines = readme.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            section = line.lstrip("#").strip()
        match = _EXCERPT.search(line)
        if match:
            excerpt = match.group(1)
        if line.startswith("```"):
            language, start = line[3:].strip(), i
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"README.md:{start + 1}: the code block is never closed")
            found.append(Block(language, "\n".join(body) + "\n", start + 1, section, excerpt))
            excerpt = None
        elif line.strip() and not match:
            excerpt = None if not line.startswith("<!--") else excerpt
        i += 1
    return found


def _code(line: str) -> str:
    return _TRAILING_COMMENT.split(line.strip(), maxsplit=1)[0]


def is_excerpt_of(block: Block, source: str) -> bool:
    """Whether the block's non-blank lines appear in ``source``, in order (stripped, and
    without trailing comments: the README may annotate a line)."""
    wanted = [_code(line) for line in block.text.splitlines() if line.strip()]
    have = iter(_code(line) for line in source.splitlines())
    return all(any(line == candidate for candidate in have) for line in wanted)
