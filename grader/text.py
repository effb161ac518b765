"""Untrusted text (students' names, messages, output) made safe to show: on a terminal through
rich, and in a CSV cell. Standard library only, apart from rich's escape, imported when used."""

from __future__ import annotations

import re

_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, erasing
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, APC…: to BEL/ST
    r"|\x1b[ -/]*[0-~]?"  # any other escape
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 but newline and tab, DEL and C1."""
MAX_MESSAGE_CHARS = 2000
"""The most characters of one check's output (message and hint): longer text is cut."""
MAX_QUOTE_CHARS = 300
"""The most characters of a string from the submission quoted inside a message (its error, …)."""
TRUNCATED = "… (truncated)"
"""Ends text that was cut to its bound."""
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP, CSV injection)."""


def plain(text: object) -> str:
    """`text` without escape sequences and control characters (newline and tab stay)."""
    return _CONTROL.sub("", _SEQUENCE.sub("", str(text)))


def for_console(text: object) -> str:
    """`text` to put inside rich markup: plain, and every `[` escaped."""
    from rich.markup import escape

    return escape(plain(text))


def csv_cell(text: object) -> str:
    """A text cell for a CSV file: plain (a carriage return inside would start a row the csv module
    does not quote), and prefixed with a single quote if it could start a formula."""
    text = plain(text)
    return f"'{text}" if text.startswith(CSV_TRIGGERS) else text


def csv_text(cell: str) -> str:
    """The text `csv_cell` was given, from the cell it made (a leading `'` before a formula prefix goes)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(CSV_TRIGGERS) else cell


def bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text`, cut to at most `limit` characters and then marked as truncated."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATED), 0)] + TRUNCATED


def quoted(text: object, limit: int = MAX_QUOTE_CHARS) -> str:
    """Untrusted text (an error message, a type name) short enough to quote in a message."""
    return bounded(text if isinstance(text, str) else str(text), limit)
