"""How the REPL shows things: values highlighted, errors as one line plus a
Lisp backtrace, the line after a definition, plain messages.

Everything here returns prompt_toolkit formatted text (a list of
(style, text) pairs); printing it is the session's job.
"""
from __future__ import annotations

import traceback
from typing import Any

from prompt_toolkit.formatted_text import FormattedText, PygmentsTokens, to_formatted_text
from prompt_toolkit.styles import Style
from pygments import lex

from world.lisp.errors import BudgetExceeded, Interrupted, LispError
from world.lisp.printer import write

from .lexer import WorldLispLexer

BACKTRACE_FRAMES = 12

STYLE = Style.from_dict({
    "error": "#ff5555 bold",
    "backtrace": "#888888",
    "traceback": "#aa6666",
    "note": "#888888 italic",
    "commit": "#55aaff",
    "severity.error": "#ff5555 bold",
    "severity.warning": "#ffaa00",
    "severity.info": "#55cccc",
    "tree.key": "#cc88ff",
    "tree.branch": "#666666",
    "tree.type": "#888888 italic",
    "help.command": "#55aaff bold",
    "bottom-toolbar": "bg:#222222 #aaaaaa noreverse",
    "bottom-toolbar.key": "bg:#222222 #ffffff bold noreverse",
    "bottom-toolbar.value": "bg:#222222 #55ccff noreverse",
    "bottom-toolbar.sep": "bg:#222222 #555555 noreverse",
})

SEVERITY_STYLES = {"error": "class:severity.error", "critical": "class:severity.error",
                   "warning": "class:severity.warning", "info": "class:severity.info"}


def code(text: str) -> FormattedText:
    """Lisp text highlighted with the world's lexer (no trailing newline)."""
    tokens = list(lex(text, WorldLispLexer()))
    if tokens and tokens[-1][1].endswith("\n"):     # pygments always ends with a newline
        t, v = tokens[-1]
        tokens[-1] = (t, v[:-1])
    return to_formatted_text(PygmentsTokens(tokens))


def value(v: Any) -> FormattedText:
    """A value written canonically and highlighted."""
    return code(write(v))


def error(e: BaseException, debug: bool = False) -> FormattedText:
    """An error as one line, then its Lisp backtrace (and the Python one with `debug`)."""
    if isinstance(e, LispError):
        head = "interrupted" if isinstance(e, Interrupted) else "error"
        parts = [("class:error", f"{head}: "), ("", str(e) if not isinstance(e, Interrupted)
                                                else "evaluation stopped; the form was rolled back")]
        if isinstance(e, BudgetExceeded) and e.budget == "steps":
            parts.append(("class:note", "  (,steps N sets the budget)"))
        lines = [] if isinstance(e, Interrupted) else e.format_backtrace(BACKTRACE_FRAMES)
        for line in lines:
            parts.append(("", "\n"))
            parts.append(("class:backtrace", line))
    else:
        parts = [("class:error", "internal error: "),
                 ("", f"{type(e).__name__}: {e} (a bug in world, please report it)")]
    if debug and e.__traceback__ is not None:
        parts.append(("", "\n"))
        parts.append(("class:traceback", "".join(traceback.format_exception(e)).rstrip("\n")))
    return FormattedText([p for p in parts if p[1]])


def committed(name: str, commit: str | None, violations: list[tuple[str, str]]) -> FormattedText:
    """The line after a definition: its atomic commit id and audit violations, coloured."""
    parts = [("class:note", "; "), ("", name)]
    if commit:
        parts += [("class:note", " committed as "), ("class:commit", commit)]
    for severity, message in violations:
        parts += [("class:note", " · "),
                  (SEVERITY_STYLES.get(severity, "class:severity.info"), f"{severity}: {message}")]
    return FormattedText(parts)


def note(text: str) -> FormattedText:
    """A quiet line of information from the REPL itself."""
    return FormattedText([("class:note", text)])


def plain(ft: Any) -> str:
    """The text of formatted text without its styles."""
    return "".join(t for _, t, *_ in to_formatted_text(ft))
