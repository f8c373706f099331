r"""Text for messages: counts that may be astronomically large, integers as given, and text from data (names,
metadata values, file names) made safe to print on a terminal.

>>> approximate(10**12), shown_integer(10001), printable("fam\x1b[2J\rily")
('1e+12', '10001', 'fam\\x1b[2J\\rily')
"""

from __future__ import annotations

import re

# What must not reach a terminal as itself: C0 controls (CR, backspace, ESC, NUL, ... and the newline: a value is
# one line), DEL, C1 controls (U+0080-U+009F, CSI U+009B among them), the bidirectional controls that reorder
# what follows (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069), the line and paragraph separators (U+2028/9)
# and lone surrogates (undecodable bytes of a file name; printing them raises UnicodeEncodeError).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def approximate(count: int) -> str:
    """A count as a short number: exact below 10^6, else 3 significant digits; safe for any int.

    >>> approximate(999_000), approximate(10**12), approximate(10**5000)
    ('999,000', '1e+12', '2^16609')
    """
    if count < 1_000_000:
        return f"{count:,}"
    if count.bit_length() > 1000:  # beyond a float, and str() of it may be refused
        return f"2^{count.bit_length() - 1}"
    return f"{float(count):.3g}"


def shown_integer(value: int) -> str:
    """An integer parameter as given (digits), or approximated when it is too long to print.

    >>> shown_integer(10001), shown_integer(-3), shown_integer(10**100)
    ('10001', '-3', '1e+100')
    """
    if abs(value).bit_length() <= 64:
        return str(value)
    return ("-" if value < 0 else "") + approximate(abs(value))


def printable(text: object) -> str:
    r"""`text` (or str() of it) with every character that could move the cursor, overwrite or reorder what a
    terminal shows, or start a new line escaped: newline, CR and tab as \n \r \t, the other controls as \xNN,
    bidi controls, separators and lone surrogates as \uNNNN. Ordinary Unicode (accents, Greek, CJK, emoji) is
    kept; backslashes are not doubled (the aim is a safe line, not a reversible encoding). The result is one line.

    >>> printable("d\x1b]0;title\x07\u202eX\u2028é\x00")
    'd\\x1b]0;title\\x07\\u202eX\\u2028é\\x00'
    >>> printable("two\nlines"), printable(3.5)
    ('two\\nlines', '3.5')
    """
    text = text if isinstance(text, str) else str(text)
    return _UNPRINTABLE.sub(_escaped, text)


def printable_lines(text: str) -> str:
    r"""`text` as lines each made `printable`, the line breaks (\n) between them kept: for a table or a report
    built as several lines.

    >>> printable_lines("a\x1b[2J\nb\r")
    'a\\x1b[2J\nb\\r'
    """
    return "\n".join(printable(line) for line in text.split("\n"))


def _escaped(match: re.Match[str]) -> str:
    character = match[0]
    if character in _SHORT:
        return _SHORT[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
