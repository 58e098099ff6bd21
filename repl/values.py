"""`*1`, `*2`, `*3` and `*e`: the REPL's last three values and its last error.

They are session-local bindings: set straight into the environment's
namespace (`Environment.define`, which runs no definition hook), so forms
evaluated in this REPL see them as globals while nothing records them: they
are no definitions of the world, never stored in the image, never in
history, and another session does not see them. A value is pushed only when
the REPL prints it (a definition's line or a `VOID` pushes nothing); `*e` is
what a `guard` around the failed form would have caught.

History must stay replayable, so a form that mentions one of them may not
change a definition (`(define data *1)` would replay as an unbound name): it
is refused inside its own transaction, which then rolls back.
"""
from __future__ import annotations

from typing import Any

from world.inspect import symbols_in
from world.lisp.errors import LispError
from world.lisp.runtime import condition
from world.lisp.types import Symbol

LAST = (Symbol("*1"), Symbol("*2"), Symbol("*3"))
ERROR = Symbol("*e")
NAMES = frozenset(LAST + (ERROR,))


class SessionValueError(LispError):
    """A form used a REPL-only name where history would have to replay it."""

    kind = "REPL-only name"


def mentions(form: Any) -> list[str]:
    """The REPL-only names a form mentions, in order of first mention."""
    found: dict[str, None] = {}
    for sym in symbols_in(form):
        if sym in NAMES:
            found[sym.name] = None
    return list(found)


class LastValues:
    """The last values and error of one REPL session, bound in its world's environment."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.values: list[Any] = []         # newest first, at most three
        self.error: Any = None
        self.has_error = False
        self.watched: list[str] = []        # REPL-only names the running form mentions
        world.before_commit.append(self.check)

    def watch(self, form: Any) -> None:
        """Note which REPL-only names the form about to run mentions."""
        self.watched = mentions(form)
        if self.watched and self.check not in self.world.before_commit:
            self.world.before_commit.append(self.check)     # (history's detach clears them)

    def check(self) -> None:
        """Before the form commits: refuse it if it changed a definition through `*1`..."""
        if self.watched and self.world.names.touched:
            one = len(self.watched) == 1
            names = " and ".join(self.watched)
            changed = ", ".join(sorted(self.world.names.touched))
            raise SessionValueError(
                f"{names} {'is' if one else 'are'} this session's own, so history could not "
                f"replay a form that changes {changed} with {'it' if one else 'them'}: "
                f"write the value itself, quoted")

    def push(self, value: Any) -> None:
        """A value the REPL printed becomes `*1` (the others move down)."""
        self.values = [value] + self.values[:len(LAST) - 1]
        self.bind()

    def failed(self, e: BaseException) -> None:
        """The error the REPL showed becomes `*e`."""
        try:
            self.error = condition(e)
        except Exception:       # an internal error: keep it as its message
            self.error = str(e)
        self.has_error = True
        self.bind()

    def bind(self) -> None:
        """(Re)bind the names that have a value (a rolled-back form may have unbound one)."""
        env = self.world.env
        for sym, value in zip(LAST, self.values):
            env.define(sym, value)
        if self.has_error:
            env.define(ERROR, self.error)
