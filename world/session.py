"""A world: one environment you evaluate text in, form by form."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from .lisp import budget
from .lisp.budget import DEFAULT_LIMITS, Limits
from .lisp.env import Environment
from .lisp.reader import read_spans
from .lisp.runtime import Result, run
from .lisp.types import Pair, Symbol

BEGIN = Symbol("begin")


class World:
    """A live world: evaluate text in it; output goes to `out`."""

    def __init__(self, env: Environment | None = None, limits: Limits = DEFAULT_LIMITS,
                 out: Callable[[str], Any] | None = None) -> None:
        self.env = env or Environment(limits=limits)
        self.limits = limits
        self.out = out
        self.last: Result | None = None

    def forms(self, text: str, source: str | None = None) -> list[tuple[Any, str]]:
        """The top-level forms of `text`, each with its text as typed."""
        return [(form, text[a:b]) for form, a, b in read_spans(text, source)]

    def eval(self, text: str, steps: int | None = None, source: str | None = None) -> Any:
        """Evaluate every form in `text`; return the value of the last one."""
        value = None
        for form, typed in self.forms(text, source):
            value = self.eval_form(form, steps, source, typed).value
        return value

    def eval_form(self, form: Any, steps: int | None = None, source: str | None = None,
                  typed: str | None = None) -> Result:
        """Evaluate one top-level form (a top-level `begin` splices its forms)."""
        if type(form) is Pair and form.car is BEGIN and not self.env.is_bound(BEGIN) and form.cdr is not None:
            result = None
            x = form.cdr
            while type(x) is Pair:
                result = self.eval_form(x.car, steps, source, None)
                x = x.cdr
            return result
        limits = self.limits if steps is None else replace(self.limits, steps=steps)
        out: list[str] = []
        try:
            result = run(self.env, form, limits, source, out=out)
        finally:
            if out and self.out is not None:
                self.out("".join(out))
        self.last = result
        return result


def open(limits: Limits = DEFAULT_LIMITS, out: Callable[[str], Any] | None = None) -> World:
    """An in-memory world."""
    return World(limits=limits, out=out)
