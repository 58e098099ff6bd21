"""How a result fits the terminal: pretty-printed when wide, text when it is a
multi-line string, cut to a page when long (`,more` shows the next page).

The rules, shown to the user in the README:
- a result that fits on one line is shown as written;
- a wider one is pretty-printed to the terminal's width (`,pp FORM` does the
  same on demand, whatever the width);
- a string result with a newline in it (`(history/diff ...)`, a report) is
  shown as its text, then a quiet note saying it is a string of N lines
  (`(write x)` or `,pp x` shows the string literal);
- whatever is longer than a page (the terminal's height, less a few lines) is
  cut at a line boundary, with the note "… N more characters: ,more shows
  the rest"; each `,more` shows one more page.
"""
from __future__ import annotations

import re
from typing import Any

from prompt_toolkit.formatted_text import FormattedText

from world.lisp.pretty import pretty

from . import render
from .commands import CommandError, command

PRETTY_CHARS = 100_000      # longer written results are paged as written, not laid out
MIN_PAGE_ROWS = 8
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")   # escaped: they would drive the terminal


def layout(value: Any, text: str, width: int, pp: bool = False) -> tuple[str, str | None]:
    """The text to show for a result (`text` is its written form) and an optional note
    (`pp`: the pretty-printed written form, even of a multi-line string)."""
    if pp:
        return (text if len(text) <= width else pretty(value, width, written=text)), None
    if type(value) is str and "\n" in value:
        lines = value.count("\n") + (0 if value.endswith("\n") else 1)
        shown = escape_controls(value[:-1] if value.endswith("\n") else value)
        return shown, f"; a string of {lines:,} lines, shown as text ((write x) shows it quoted)"
    if len(text) <= width or "\n" in text or len(text) > PRETTY_CHARS:
        return text, None
    return pretty(value, width, written=text), None


def escape_controls(text: str) -> str:
    """`text` with control characters (but newline and tab) written as `\\xNN;` escapes."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x};", text)


def page_rows(rows: int) -> int:
    """Rows of one page of output on a terminal `rows` high (room for the prompt and notes)."""
    return max(MIN_PAGE_ROWS, rows - 4)


def split_page(text: str, width: int, rows: int) -> tuple[str, str]:
    """`text` cut after what fills `rows` terminal rows of `width` columns: (page, rest).
    Cuts at a line's end where it can; a line longer than the page is cut inside."""
    width = max(width, 1)
    used, pos, n = 0, 0, len(text)
    while pos < n:
        end = text.find("\n", pos)
        if end < 0:
            end = n
        need = max(1, -(-(end - pos) // width))
        if used + need > rows:
            if used == 0 or need > rows:     # one line larger than a page: cut inside it
                cut = pos + (rows - used) * width
                return text[:cut], text[cut:]
            return text[:pos - 1], text[pos:]
        used += need
        pos = end + 1
    return text, ""


class Pager:
    """What is left of the last long output, shown a page at a time by `,more`."""

    def __init__(self) -> None:
        self.rest = ""

    def take(self, text: str, width: int, rows: int) -> tuple[str, str | None]:
        """The first page of `text` and the note about the rest (None if it all fits);
        the rest is kept for `more`."""
        page, self.rest = split_page(text, width, page_rows(rows))
        return page, self.note()

    def more(self, width: int, rows: int) -> tuple[str, str | None]:
        """The next page of what is left and the note about the rest after it."""
        return self.take(self.rest, width, rows)

    def note(self) -> str | None:
        """"… N more characters: ,more shows the rest", or None when nothing is left."""
        if not self.rest:
            return None
        return f"… {len(self.rest):,} more characters: ,more shows the rest"


# ---------------------------------------------------------------- the commands

@command("pp", "FORM: evaluate FORM and pretty-print its value to the terminal's width")
def cmd_pp(repl: Any, arg: str) -> None:
    """,pp FORM: the value laid out over lines."""
    if not arg:
        raise CommandError(",pp: expected a form, e.g. ,pp (history/log)")
    repl.evaluate(arg, source="<pp>", pp=True)


@command("more", "the next page of the last output that was too long to show")
def cmd_more(repl: Any, arg: str) -> None:
    """,more: one more page of the last long output."""
    if not repl.pager.rest:
        raise CommandError(",more: nothing more to show")
    width, rows = repl.size()
    page, more = repl.pager.more(width, rows)
    repl.show(FormattedText([("", page)]))
    if more:
        repl.show(render.note(more))
