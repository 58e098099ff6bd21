"""Novelty by behaviour: the constructs a lineage's my-eval handles that the
original seed (seed-eval.lisp) does not.

A construct is a form name N: my-eval *handles* N when some probe shape,
`(N)`, `(N 1 2)`, `(N ((x 1)) x)`... (world/evolve/probes.py), gives a value
rather than an error. The names tried are every symbol quoted in the
evaluator package (my-eval and the helpers it uses: dispatch is on quoted
names, whatever its style, `(form? e 'N)`, `(eq? head 'N)` or a table),
except names bound as globals (a call to a function is not a construct).
For each that the lineage's my-eval handles, the original seed my-eval is
run on the same probes in the same environment (bound for the moment, then
put back); what the seed handles too is not new. Every generation is
measured against the original seed, never against the seed it inherited.
Probes run sealed (they define no global) and deterministic, so a resumed
lineage scores the same.
"""
from __future__ import annotations

from typing import Any

from ..lisp import budget
from ..lisp.errors import LispError
from ..lisp.reader import read
from ..lisp.types import Symbol
from . import probes
from .evaluator import MY_EVAL, _Quiet, _sealed, _value, defined_name, seed_forms

MAX_NAMES = 60              # names probed for novelty per lineage


def candidates(env: Any, package: dict[str, Any]) -> list[str]:
    """Names worth probing: symbols quoted in the package's sources, not bound as globals."""
    out: list[str] = []
    sources = [package.get("evaluator") or ""] + [src for kind in ("helpers", "natives")
                                                  for _, src in package.get(kind) or ()]
    for text in sources:
        try:
            form = read(text) if text else None
        except LispError:
            continue
        for name in probes._quoted_symbols(form):
            if name not in out and not env.is_bound(Symbol(name)):
                out.append(name)
    return out[:MAX_NAMES]


def handles(env: Any, names: list[str]) -> list[str]:
    """The names of `names` that env's my-eval handles (some probe gives a value)."""
    evaluate = lambda f, n: _value(env, f, n)     # noqa: E731
    with budget.uncharged(), _sealed(env):
        return [n for n in names if probes.handles(evaluate, n)]


def novel_constructs(world: Any, package: dict[str, Any]) -> tuple[str, ...]:
    """The constructs `world`'s my-eval handles and the original seed does not, sorted."""
    env = world.env
    mine = handles(env, candidates(env, package))
    if not mine:
        return ()
    forms = seed_forms()
    with _Quiet(env, [defined_name(f) for f in forms if defined_name(f) is not None]):
        env.ns.pop(_key(MY_EVAL), None)     # unbound first: its recursion is a global call
        # Binding the seed's names for the moment is the host's: a lineage world guards them.
        env.unguarded = getattr(env, "unguarded", 0) + 1
        try:
            for form in forms:
                _value(env, form)
        finally:
            env.unguarded -= 1
        seed = set(handles(env, mine))
    return tuple(sorted(n for n in mine if n not in seed))


def _key(sym: Symbol) -> Any:
    from .ground import global_key
    return global_key(sym)
