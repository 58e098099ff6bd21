"""Error types of the world's Lisp.

Two families, as in Hy: `LispError` is the user's fault (bad syntax, an
unbound name, a spent budget, a sandbox refusal) and carries a one-line
message, a source location and a Lisp backtrace; `InternalError` is a bug in
the world itself. Nothing a program can type produces anything else.
"""
from __future__ import annotations

import difflib
import re
from typing import Any


Location = tuple[int, int]


class Frame:
    """One Lisp frame of an error's backtrace: procedure name, location, source name,
    and its local variables (name, value) when they were kept, else None."""

    __slots__ = ("name", "loc", "source", "locals")

    def __init__(self, name: str, loc: Location | None, source: str | None,
                 locals: list[tuple[str, Any]] | None) -> None:
        self.name, self.loc, self.source, self.locals = name, loc, source, locals

    def where(self) -> str:
        """`source:line:col`, as much of it as is known."""
        if self.loc is None:
            return self.source or ""
        at = f"{self.loc[0]}:{self.loc[1]}"
        return f"{self.source}:{at}" if self.source and self.source != self.name else at


class LispError(Exception):
    """An error a user can cause; `str()` is one line with its location."""

    kind = "error"

    def __init__(self, message: str, loc: Location | None = None,
                 source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.source = source
        self.backtrace: list[tuple[str, Location | None]] = []
        self.frames: list[Frame] = []       # the same frames, with locals (set as it unwinds)

    def __str__(self) -> str:
        where = ""
        if self.loc is not None:
            where = f"{self.loc[0]}:{self.loc[1]}: "
            if self.source:
                where = f"{self.source}:{where}"
        return f"{where}{self.kind}: {self.message}"

    def format_backtrace(self, limit: int = 12) -> list[str]:
        """Lines of the Lisp backtrace, innermost call first."""
        frames = self.backtrace
        lines = [f"  in {name} at {loc[0]}:{loc[1]}" if loc else f"  in {name}"
                 for name, loc in frames[:limit]]
        if len(frames) > limit:
            lines.append(f"  ... {len(frames) - limit} more frames")
        return lines


class ReadError(LispError):
    """Malformed source text."""

    kind = "read error"

    def __init__(self, message: str, line: int, col: int,
                 source: str | None = None) -> None:
        super().__init__(message, (line, col), source)
        self.line, self.col = line, col


class IncompleteInput(ReadError):
    """The text ends inside a form; a REPL should read another line."""

    kind = "incomplete input"


class LispSyntaxError(LispError):
    """A special form used with the wrong shape, found while compiling."""

    kind = "syntax error"


class EvalError(LispError):
    """An error raised while running a program; `guard` can catch it."""

    kind = "error"


# Names typed from habit of other REPLs, and what to type here instead.
_LEAVE = "to leave the REPL type ,quit or press Ctrl-D; world eval and world run end by themselves"
_LAST = "*1, *2, *3 (the last values) and *e (the last error) exist only in the REPL, once there is one"
_FILES = ("absent by design: the world has no files; at the REPL ,load FILE evaluates a file's "
          "forms, and a string port reads text: (read (open-input-string text))")
_PROCESS = "absent by design: a program sees no process context (command line, environment variables)"
_CLOCK = ("absent by design: programs have no clock, so a run is deterministic; "
          "the REPL's ,time FORM measures an evaluation")
HINTS = {"exit": _LEAVE, "quit": _LEAVE, "emergency-exit": _LEAVE,
         "*1": _LAST, "*2": _LAST, "*3": _LAST, "*e": _LAST,
         "help": "at the REPL type ,help; (inspect 'NAME) describes a name",
         **{n: _FILES for n in ("load", "include", "include-ci", "file-exists?", "delete-file")},
         **{n: _PROCESS for n in ("command-line", "get-environment-variable",
                                  "get-environment-variables")},
         **{n: _CLOCK for n in ("current-second", "current-jiffy", "jiffies-per-second")}}
SUGGESTIONS = 3         # nearest names offered
CLOSENESS = 0.6         # difflib ratio a name must reach to be offered
SPREAD = 0.1            # ... and how much less close than the closest one it may be


class UnboundVariable(EvalError):
    """A name with no binding. Where it was raised sets `candidates` (the names it could
    have meant); the nearest are offered only when the error is shown, never when a
    `guard` catches it, so a program that tests for unbound names pays nothing."""

    kind = "unbound variable"
    candidates: Any = None      # a callable returning names, set where the error is raised

    def __str__(self) -> str:
        hint = self.hint()
        return f"{super().__str__()} ({hint})" if hint else super().__str__()

    def name(self) -> str:
        """The unbound name as written in the message."""
        m = re.fullmatch(r"set!: (.+) is not defined", self.message)
        return m.group(1) if m else self.message

    def hint(self) -> str:
        """What to type instead: a hint for a name from other REPLs, else "did you mean
        NAME?" over the nearest candidates (computed once, then kept)."""
        hint = self.__dict__.get("_hint")
        if hint is None:
            hint = self.__dict__["_hint"] = self._hint()
        return hint

    def _hint(self) -> str:
        name = self.name()
        if name in HINTS:
            return HINTS[name]
        group = _group_of(name)
        if group is not None:
            return (f"{name} is a primitive of the {group} capability, which this evaluation "
                    f"was not granted")
        if self.candidates is None:
            return ""
        try:
            names = [n for n in self.candidates() if n != name and not n.startswith("#")]
        except Exception:       # the world is closed, or its storage is gone: no suggestion
            return ""
        close = difflib.get_close_matches(name, names, SUGGESTIONS, CLOSENESS)
        if not close:
            return ""
        # Only those about as close as the best: "length", not "length, let or let*".
        best = difflib.SequenceMatcher(None, name, close[0]).ratio()
        close = [c for c in close if difflib.SequenceMatcher(None, name, c).ratio() >= best - SPREAD]
        said = close[0] if len(close) == 1 else ", ".join(close[:-1]) + " or " + close[-1]
        return f"did you mean {said}?"


def _group_of(name: str) -> str | None:
    """The capability group holding the primitive `name`, if it is one a grant could give."""
    import sys
    prims = sys.modules.get("world.lisp.primitives")     # loaded by any environment that exists
    if prims is None:
        return None
    for group, names in prims.GROUPS.items():
        if name in names and group != "internal":
            return group
    return None


class LispTypeError(EvalError):
    kind = "type error"


class ArityError(EvalError):
    kind = "arity error"


class UserError(EvalError):
    """A condition raised by the program itself with `raise` or `error`."""

    kind = "error"

    def __init__(self, payload: Any, message: str) -> None:
        super().__init__(message)
        self.payload = payload


class SandboxError(LispError):
    """The program asked for something its environment does not grant."""

    kind = "sandbox"


class SandboxFailure(EvalError):
    """A `(sandbox ...)` was refused or ran out of the limits its caller gave it;
    unlike the caller's own budget, the caller can `guard` it."""

    kind = "sandbox"


class MessageError(EvalError):
    """A signed message that does not verify, does not read, or is refused by a peer."""

    kind = "message"


class BudgetExceeded(LispError):
    """A resource budget (steps, memory, time, depth, size, output) ran out.

    Deliberately not an `EvalError`: `guard` cannot swallow it, so a program
    cannot buy itself more than it was granted.
    """

    kind = "budget exceeded"

    def __init__(self, budget: str, message: str) -> None:
        super().__init__(message)
        self.budget = budget


class Interrupted(BudgetExceeded):
    """Evaluation stopped from outside (Ctrl-C)."""

    kind = "interrupted"

    def __init__(self) -> None:
        super().__init__("interrupt", "evaluation interrupted")


class InternalError(Exception):
    """A bug in the world itself, never the user's fault."""
