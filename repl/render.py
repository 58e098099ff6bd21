"""How the REPL shows things: values highlighted, errors as one line plus a
Lisp backtrace, the line after a definition, plain messages.

Everything here returns prompt_toolkit formatted text (a list of
(style, text) pairs); printing it is the session's job, with `STYLE`, the
colours of the theme in use (`use_theme`: dark, light or none).
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

THEMES = ("dark", "light", "none")
THEME_ENV = "WORLD_THEME"       # the theme when --theme is not given; NO_COLOR means "none"

# Colours for a dark terminal (the default) and a light one; "none" colours nothing.
# Plain symbols and text keep the terminal's own colour in every theme.
_COLOURS = {
    "dark": {
        "error": "#ff6b6b bold", "backtrace": "#9a9a9a", "traceback": "#d08080",
        "note": "#9a9a9a italic", "commit": "#61afef",
        "severity.error": "#ff6b6b bold", "severity.warning": "#e5c07b",
        "severity.info": "#56b6c2",
        "tree.key": "#c678dd", "tree.branch": "#6b6b6b", "tree.type": "#9a9a9a italic",
        "help.command": "#61afef bold",
        "bottom-toolbar": "bg:#262626 #b0b0b0 noreverse",
        "bottom-toolbar.key": "bg:#262626 #ffffff bold noreverse",
        "bottom-toolbar.value": "bg:#262626 #61afef noreverse",
        "bottom-toolbar.sep": "bg:#262626 #5c5c5c noreverse",
        "pygments.keyword": "#c678dd bold", "pygments.name.builtin": "#61afef",
        "pygments.name.function": "#61afef bold", "pygments.name.constant": "#d19a66",
        "pygments.literal.number": "#d19a66", "pygments.literal.string": "#98c379",
        "pygments.literal.string.symbol": "#56b6c2", "pygments.literal.string.escape": "#56b6c2",
        "pygments.comment": "#8a8a8a italic", "pygments.comment.preproc": "#8a8a8a noitalic",
        "pygments.punctuation": "#8b929e",
    },
    "light": {
        "error": "#c0001a bold", "backtrace": "#5f5f5f", "traceback": "#a04040",
        "note": "#5f5f5f italic", "commit": "#0451a5",
        "severity.error": "#c0001a bold", "severity.warning": "#9a6700",
        "severity.info": "#00838f",
        "tree.key": "#7b30a8", "tree.branch": "#9e9e9e", "tree.type": "#5f5f5f italic",
        "help.command": "#0451a5 bold",
        "bottom-toolbar": "bg:#e4e4e4 #333333 noreverse",
        "bottom-toolbar.key": "bg:#e4e4e4 #000000 bold noreverse",
        "bottom-toolbar.value": "bg:#e4e4e4 #0451a5 noreverse",
        "bottom-toolbar.sep": "bg:#e4e4e4 #9e9e9e noreverse",
        "pygments.keyword": "#7b30a8 bold", "pygments.name.builtin": "#0451a5",
        "pygments.name.function": "#0451a5 bold", "pygments.name.constant": "#a0522d",
        "pygments.literal.number": "#a0522d", "pygments.literal.string": "#2e7d32",
        "pygments.literal.string.symbol": "#00838f", "pygments.literal.string.escape": "#00838f",
        "pygments.comment": "#6a737d italic", "pygments.comment.preproc": "#6a737d noitalic",
        "pygments.punctuation": "#586069",
    },
    "none": {"bottom-toolbar": "reverse"},
}
THEME = "dark"
STYLE = Style.from_dict(_COLOURS[THEME])


def theme_name(asked: str | None = None) -> str:
    """The theme to use: `asked` (--theme), else $WORLD_THEME, else "none" under
    $NO_COLOR, else "dark"; ValueError names the choices for anything else."""
    import os
    name = asked or os.environ.get(THEME_ENV) or ("none" if os.environ.get("NO_COLOR") else "")
    name = name.strip().lower() or "dark"
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}: choose {', '.join(THEMES)} "
                         f"(--theme or ${THEME_ENV})")
    return name


def use_theme(name: str) -> Style:
    """Make `name` the theme of everything shown from now on; return its style."""
    global STYLE, THEME
    THEME, STYLE = name, Style.from_dict(_COLOURS[name])
    return STYLE


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
