"""Error types of the world's Lisp.

Two families, as in Hy: `LispError` is the user's fault (bad syntax, an
unbound name, a spent budget, a sandbox refusal) and carries a one-line
message, a source location and a Lisp backtrace; `InternalError` is a bug in
the world itself. Nothing a program can type produces anything else.
"""
from __future__ import annotations

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


class UnboundVariable(EvalError):
    kind = "unbound variable"


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
