# attack: crash
# expect: fail
# must: report the crash with its text made safe: no raw NUL, ESC, lone surrogate or bidi
"""raises an exception whose message holds lone surrogates, NUL bytes, ANSI escapes (clear
screen, OSC title, hyperlink), a right-to-left override and a carriage return that hides text"""

POISON = (
    "\ud800\udfff\udc80 lone surrogates "
    "\x00NUL\x00 "
    "\x1b[2J\x1b[31mred\x1b[0m \x1b]0;owned\x07 "
    "\x1b]8;;http://example.invalid\x1b\\link\x1b]8;;\x1b\\ "
    "\u202eevil\u202c "
    "PASS\rFAIL "
)


def backprop(X, y, weights, biases):
    raise ValueError(POISON * 4)
