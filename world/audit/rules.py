"""Running audit rules: each rule's predicate, sandboxed, over a metrics map.

A rule runs in a sandbox environment that holds only the safe core
primitives, under a small budget of steps, memory and time. A rule that
errors, loops or exhausts its budget becomes a `rule-error` violation naming
the rule; it never blocks the commit it was auditing.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..lisp.budget import Limits, Meter
from ..lisp.calls import call
from ..lisp.compiler import closure_factory
from ..lisp.env import Environment
from ..lisp.errors import Interrupted, LispError, SandboxError
from ..lisp.primitives import RULES, UNSAFE, names_of
from ..lisp.runtime import on_big_stack, translate
from ..lisp.printer import write
from ..lisp.types import Char, Closure, Keyword, LispMap, Pair, Symbol, Template, is_true
from .store import Rule

RULE_LIMITS = Limits(steps=20_000, memory=4 * 1024 * 1024, seconds=1.0, depth=500,
                     output=0, string=100_000, length=100_000)
SEVERITIES = ("info", "warning", "error")
BROKEN = "rule-error"

@dataclass(frozen=True)
class Violation:
    """A rule that matched a definition."""

    rule: str
    category: str
    severity: str
    message: str

    def as_tuple(self) -> tuple[str, str, str, str]:
        """(rule, category, severity, message)."""
        return (self.rule, self.category, self.severity, self.message)


# Each world's rules run in a rule environment of its own (kept weakly by the world's
# environment), so nothing one world's rules do reaches another world's.
_SANDBOXES: "weakref.WeakKeyDictionary[Environment, Environment]" = weakref.WeakKeyDictionary()
DATA = (int, float, Fraction, complex, str, bool, Symbol, Keyword, Char, type(None))


def sandbox(home: Environment) -> Environment:
    """The rule environment of the world whose environment is `home`: the safe core
    primitives it was granted, a small budget, and globals no rule can rebind."""
    env = _SANDBOXES.get(home)
    if env is None:
        safe = frozenset(n for n in names_of(RULES) if n not in UNSAFE and n in home.granted)
        env = _SANDBOXES[home] = Environment(safe, RULE_LIMITS)
        env.sealed = True
        env.rule_code = {}
    return env


def _predicate(rule: Rule, env: Environment) -> Any:
    """The rule's predicate recompiled into the rule environment (cached per session)."""
    cached = getattr(rule, "_v_sandboxed", None)
    if cached is not None and cached[0] is env and cached[1] is rule.when:
        return cached[2]
    fn = _rehome(rule.when, env) if type(rule.when) is Closure else rule.when
    rule._v_sandboxed = (env, rule.when, fn)
    return fn


def _rehome(c: Closure, env: Environment) -> Closure:
    """Closure `c` compiled to run in `env` (the compiled code is shared by equal sources).

    What it captured must be plain immutable data: a rule holds no procedure,
    box or record of the world's, so it can neither reach nor change world state.
    """
    captured = c.captured()
    for v in captured:
        if not _plain(v):
            raise SandboxError("a rule may capture only plain data, not procedures, boxes or records")
    t = c.tmpl
    key = (write(t.form), t.free)
    hit = env.rule_code.get(key)
    if hit is None:
        tmpl = Template(t.form, t.name, t.free, t.doc, t.glob, env)
        hit = env.rule_code[key] = (tmpl, closure_factory(tmpl))
    return Closure(hit[1](*captured), hit[0])


def _plain(x: Any, budget_left: int = 10_000) -> bool:
    """Is `x` immutable data (numbers, text, symbols, and lists, vectors, maps of them)?"""
    todo = [x]
    while todo:
        budget_left -= 1
        if budget_left < 0:
            return False
        v = todo.pop()
        t = type(v)
        if t is Pair:
            todo += (v.car, v.cdr)
        elif t is tuple:
            todo += v
        elif t is LispMap:
            for k, w in v.items():
                todo += (k, w)
        elif t not in DATA:
            return False
    return True


def run_rule(rule: Rule, metrics: Any, env: Environment) -> Violation | None:
    """Apply one rule to a metrics map; a broken rule is a `rule-error` violation."""
    return on_big_stack(lambda: _run_rule(rule, metrics, env))     # where every meter runs


def _run_rule(rule: Rule, metrics: Any, env: Environment) -> Violation | None:
    meter = Meter(env.ns, RULE_LIMITS)
    meter.start()
    try:
        matched = is_true(call(_predicate(rule, env), metrics))
    except Interrupted:
        raise
    except Exception as e:           # anything a rule does wrong is the rule's fault
        err = translate(e)
        why = f"{err.kind}: {err.message}" if isinstance(err, LispError) else f"{type(e).__name__}: {e}"
        return Violation(rule.name, BROKEN, "error", f"rule {rule.name} is broken: {why}")
    finally:
        meter.stop()
    if not matched:
        return None
    return Violation(rule.name, rule.category, rule.severity, rule.message)


def run_rules(rules: Any, metrics: Any, home: Environment) -> list[Violation]:
    """Every violation the `rules` (name -> Rule) find in `metrics`."""
    env = sandbox(home)
    out = []
    for rule in rules.values():
        v = run_rule(rule, metrics, env)
        if v is not None:
            out.append(v)
    return out


def counted(violations: list[tuple[str, str, str, str]]) -> int:
    """How many violations count against the tolerance (warnings and errors, not broken rules)."""
    return sum(1 for v in violations if v[1] != BROKEN and v[2] in ("warning", "error"))
