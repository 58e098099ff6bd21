"""The read-only grant an inspect request runs under, in production.

An inspect form from the hub runs in a fresh environment granted only
`core` (INSPECT_CAPS), plus a read-only view of production's definitions:

    (prod/names)        the names production defines, sorted, as a list of symbols
    (prod/source 'f)    f's source text (#f if f is not defined)
    (prod/value 'f)     f's value as data: a copy read back from its written text,
                        or that text as a string when it does not read (a procedure)
    (prod/state 'f)     f's state hash (history/fingerprint.py)

Nothing the form does reaches production: it never sees a live object, only
copies through text, and it runs outside any transaction. A form naming a
primitive the grant leaves out (world/save, eval, peer/send, ...) is refused
before it runs, naming that primitive and its capability group.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..audit.checks import symbols_in
from ..history.fingerprint import state_of
from ..lisp import budget
from ..lisp.budget import DEFAULT_LIMITS, Limits
from ..lisp.env import Environment
from ..lisp.errors import LispError, LispTypeError, SandboxError
from ..lisp.primitives import GROUPS, load
from ..lisp.printer import write
from ..lisp.reader import read_all
from ..lisp.runtime import run
from ..lisp.types import Primitive, Symbol, make_list

INSPECT_CAPS: tuple[str, ...] = ("core",)
LIMITS: Limits = replace(DEFAULT_LIMITS, steps=2_000_000, seconds=5.0, memory=64 << 20,
                         output=64 * 1024)
VIEW = ("prod/names", "prod/source", "prod/value", "prod/state")


class InspectRefused(SandboxError):
    """An inspect form names something the inspect grant does not hold."""

    kind = "inspect refused"


def _group_of(name: str) -> str:
    for group, names in GROUPS.items():
        if name in names:
            return group
    return "?"


def refuse_forbidden(form: Any, granted: frozenset[str]) -> None:
    """Refuse `form` if it names a primitive outside `granted` and the view."""
    registry = load()
    for name in sorted(symbols_in(form, set())):
        if name in registry and name not in granted and name not in VIEW:
            raise InspectRefused(f"inspect: refused: {name} needs the :{_group_of(name)} "
                                 f"capability, which an inspect request is not granted "
                                 f"(only :{' :'.join(INSPECT_CAPS)} and the prod/ view)")


def _name(who: str, x: Any) -> str:
    if type(x) is Symbol:
        return x.name
    if type(x) is str and x:
        return x
    raise LispTypeError(f"{who}: expected a name (a symbol)")


def _copy(value: Any) -> Any:
    """`value` as fresh data read back from its written text, or that text if it does not read."""
    text = write(value)
    budget.charge(len(text) // 16 + 1)
    try:
        forms = read_all(text)
    except LispError:
        return text
    if len(forms) != 1 or write(forms[0]) != text:
        return text
    return forms[0]


def view(world: Any, env: Environment) -> None:
    """Bind the prod/ view of `world`'s definitions in `env`."""
    names = world.names

    def prod_names() -> Any:
        found = sorted(set(names.defs.keys()) | set(names.macros.keys()))
        budget.charge(len(found))
        return make_list([Symbol(n) for n in found])

    def prod_source(x: Any) -> Any:
        n = _name("prod/source", x)
        d = names.defs.get(n) or names.macros.get(n)
        return d.source if d is not None and d.source else False

    def prod_value(x: Any) -> Any:
        n = _name("prod/value", x)
        d = names.defs.get(n)
        if d is None:
            raise LispTypeError(f"prod/value: {n} is not defined in production")
        return _copy(d.value)

    def prod_state(x: Any) -> Any:
        n = _name("prod/state", x)
        with budget.uncharged():        # bounded bookkeeping (fingerprint.CAP)
            return state_of(names.defs.get(n), names.macros.get(n))

    for name, fn, arity in (("prod/names", prod_names, (0, 0)),
                            ("prod/source", prod_source, (1, 1)),
                            ("prod/value", prod_value, (1, 1)),
                            ("prod/state", prod_state, (1, 1))):
        env.define(Symbol(name), Primitive(name, fn, (fn.__doc__ or name), arity))


def inspect(world: Any, form: Any, limits: Limits = LIMITS) -> Any:
    """The value of the read-only `form` over `world`'s definitions, as data (see the module)."""
    env = Environment(INSPECT_CAPS, limits)
    refuse_forbidden(form, env.granted)
    view(world, env)
    try:
        value = run(env, form, limits, "<inspect>").value
    finally:
        world.image.abort()         # nothing read may linger as a change
    return _copy(value) if value is not None else value
