"""Recorded checks: `(check expected expr)` examples, kept against the
definitions `expr` exercises and run again on demand and after a rebuild.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..lisp.budget import Limits, Meter, remainder
from ..lisp.errors import BudgetExceeded, Interrupted, LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.runtime import on_big_stack, run
from ..lisp.types import LispMap, Pair, Symbol, equal

QUOTE = Symbol("quote")
MAX_CLOSURE = 10_000      # definitions followed when finding what an expression exercises


@dataclass
class Outcome:
    """What one check gave: passed, the expected and actual values (or an error)."""

    number: int
    expected_src: str
    expr_src: str
    names: tuple[str, ...]
    passed: bool
    expected: Any = None
    actual: Any = None
    error: str | None = None


@dataclass
class CheckReport:
    """Every check's outcome, and pass/fail counts per definition."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        """The outcomes that failed."""
        return [o for o in self.outcomes if not o.passed]

    def by_definition(self) -> dict[str, tuple[int, int]]:
        """definition -> (passed, failed)."""
        out: dict[str, list[int]] = {}
        for o in self.outcomes:
            for n in o.names or ("<none>",):
                pf = out.setdefault(n, [0, 0])
                pf[0 if o.passed else 1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def symbols_in(x: Any, out: set[str]) -> set[str]:
    """Every symbol in `x` outside quoted data."""
    stack = [x]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is Symbol:
            out.add(x.name)
        elif t is Pair:
            if x.car is QUOTE:
                continue
            while type(x) is Pair:
                stack.append(x.car)
                x = x.cdr
            if x is not None:
                stack.append(x)
        elif t is tuple:
            stack.extend(x)
        elif t is LispMap:
            for k, v in x.items():
                stack += [k, v]
    return out


def exercised(names: Any, expr: Any) -> tuple[str, ...]:
    """The world definitions `expr` calls, directly or through other definitions."""
    defs, macros = names.defs, names.macros
    todo = [n for n in symbols_in(expr, set()) if n in defs or n in macros]
    seen: set[str] = set()
    while todo and len(seen) < MAX_CLOSURE:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        d = defs.get(n) or macros.get(n)
        try:
            form = read(d.source) if d is not None and d.source else None
        except LispError:
            form = None
        if form is not None:
            todo += [m for m in symbols_in(form, set()) if m not in seen and (m in defs or m in macros)]
    return tuple(sorted(seen))


def evaluate(world: Any, expected: Any, expr: Any, number: int = 0,
             names: tuple[str, ...] = ()) -> Outcome:
    """Evaluate a check's two forms in `world` (inside its running transaction)."""
    out = Outcome(number, write(expected), write(expr), names, False)
    try:
        out.expected = run(world.env, expected, world.limits).value
        out.actual = run(world.env, expr, world.limits).value
    except Interrupted:
        raise
    except LispError as e:
        out.error = str(e)
        return out
    def compare() -> None:
        meter = Meter({"_n": 0}, world.limits)    # comparing is work too: a DAG is charged per node
        meter.start()
        try:
            out.passed = bool(equal(out.expected, out.actual))
        except Interrupted:
            raise
        except BudgetExceeded as e:
            out.error = str(e)
        finally:
            meter.stop()
    on_big_stack(compare)       # where every meter runs, so they form one chain
    return out


def run_checks(world: Any, checks: Any) -> CheckReport:
    """Run every check in `checks` (number -> Check) in `world`, in order."""
    report = CheckReport()
    for c in list(checks.values()):
        try:
            expected, expr = read(c.expected), read(c.expr)
        except LispError as e:
            report.outcomes.append(Outcome(c.number, c.expected, c.expr, c.names, False,
                                           error=str(e)))
            continue
        report.outcomes.append(evaluate(world, expected, expr, c.number, c.names))
    return report


def recheck(world: Any, names: Any, limits: Limits, spent: int, elapsed: float) -> tuple[list[str], int]:
    """Re-run the checks recorded against `names` (just redefined) under half of what `limits`
    leave after `spent` steps and `elapsed` seconds (the rest is for storing the form): a
    warning line for each that now fails, and the steps it took. A failing check, or one
    that runs out of budget, is reported, never a refusal."""
    store = getattr(world.image.root, "audit", None)
    checks = store.against(names) if store is not None and len(store.checks) else []
    if not checks:
        return [], 0
    lines: list[str] = []

    def work() -> int:
        half = limits.steps - (limits.steps - spent) // 2
        with remainder(limits, max(spent, half), elapsed, "re-running the checks") as meter:
            for o in run_checks(world, {c.number: c for c in checks}).failed:
                lines.append(warning(o))
        return meter.base
    return lines, on_big_stack(work)        # where every meter runs


def warning(o: Outcome) -> str:
    """The line that reports a failing check."""
    got = f"error: {o.error}" if o.error is not None else f"got {write(o.actual, 200)}"
    return (f"; warning: check {o.number} fails: {o.expr_src} should be {o.expected_src}, "
            f"{got} (recorded against {', '.join(o.names)}: (uncheck '{o.names[0]}) removes it)\n")
