"""`(sandbox 'FORM :caps [:core] :steps N :memory BYTES :seconds S)`: a child evaluation.

The form runs in a fresh environment granted at most the caller's
capabilities (only `core` unless `:caps` says otherwise), under limits that
are at most what the caller has left, and every step, byte and character of
output it uses is charged to the caller as it runs. Sandboxes nest and only
ever narrow.

What crosses the boundary is data: a form holding a procedure, or a result
holding a procedure made inside, is refused, because a procedure carries the
capabilities of the environment it was made in and runs on that
environment's meter. Running out of the child's own limits raises an error
the caller can `guard`; running out of the caller's budget stops the caller.
"""
from __future__ import annotations

import time
from typing import Any

from .. import budget
from ..errors import BudgetExceeded, LispTypeError, SandboxError, SandboxFailure
from ..types import Box, Closure, Keyword, LispMap, Pair, Procedure, Record, Symbol
from ..dynamic import Parameter, Promise, Values
from . import CAPABILITIES, primitive

OPTIONS = ("caps", "steps", "memory", "seconds")


def _options(opts: tuple) -> dict[str, Any]:
    if len(opts) % 2:
        raise LispTypeError("sandbox: options come in pairs, :key value")
    out: dict[str, Any] = {}
    for k, v in zip(opts[::2], opts[1::2]):
        if type(k) is not Keyword or k.name not in OPTIONS:
            raise LispTypeError(f"sandbox: unknown option; expected one of :{' :'.join(OPTIONS)}")
        out[k.name] = v
    return out


def _caps(x: Any) -> frozenset[str]:
    """Capability names from a vector or list of keywords, symbols or strings."""
    items: list[Any] = []
    if type(x) is tuple:
        items = list(x)
    else:
        while type(x) is Pair:
            items.append(x.car)
            x = x.cdr
        if x is not None:
            raise LispTypeError("sandbox: :caps expects a vector of capability names such as [:core]")
    budget.charge(len(items))
    names = set()
    for c in items:
        name = c.name if type(c) in (Keyword, Symbol) else c
        if type(name) is not str or name not in CAPABILITIES or name == "internal":
            groups = ", ".join(":" + n for n in CAPABILITIES if n != "internal")
            what = f":{name}" if type(name) is str else "a non-name"
            raise SandboxFailure(f"unknown capability {what}; the groups are {groups}")
        names.add(name)
    return frozenset(names)


def _limit(opts: dict[str, Any], key: str, kind: type | tuple) -> float | None:
    """The limit asked for under `key`, or None."""
    v = opts.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, kind) or not v >= 0:      # NaN is no limit
        raise LispTypeError(f"sandbox: :{key} expects a non-negative number")
    return v


def _procedures(x: Any, who: str, primitives: bool = False, across: str = "a sandbox's") -> None:
    """Refuse `x` if it holds a procedure (a primitive too, with `primitives`: one in the data
    would hand over a capability the grant leaves out). Charged per node visited; boxes and
    records, which can hold themselves, are visited once."""
    todo = [x]
    seen: set[int] = set()
    visits = 0
    refused = (Procedure, Promise, Parameter) if primitives else (Closure, Promise, Parameter)
    while todo:
        v = todo.pop()
        visits += 1
        if visits & 255 == 0:
            budget.charge(256)
        t = type(v)
        if t is Pair:
            todo.append(v.car)
            todo.append(v.cdr)
        elif t is tuple:
            todo.extend(v)
        elif t is LispMap:
            for k, w in v.items():
                todo.append(k)
                todo.append(w)
        elif t is Box or t is Record:
            if id(v) not in seen:
                seen.add(id(v))
                todo.extend((v.v,) if t is Box else v.values)
        elif isinstance(v, refused):        # a promise or parameter holds a procedure
            raise SandboxFailure(f"{who} holds a procedure; only data crosses {across} boundary")
        elif t is Values:
            todo.extend(v.items)
    budget.charge(visits & 255)


@primitive("sandbox", group="eval")
def sandbox(form: Any, *opts: Any) -> Any:
    """(sandbox form :caps [:core] :steps n :memory bytes :seconds s) -> form's value, in a child sandbox."""
    from ..runtime import run
    parent = budget.current()
    home = parent.ns["_env"]
    o = _options(opts)
    caps = _caps(o["caps"]) if "caps" in o else frozenset({"core"})
    try:
        kid_env = home.child(caps, inherit=False)
    except SandboxError as e:
        raise SandboxFailure(e.message) from None
    _procedures(form, "the form")
    lim = parent.limits
    parent.sync()
    left = {"steps": max(0, lim.steps - parent.base), "memory": max(0, lim.memory - parent.mem),
            "time": max(0.0, parent.deadline - time.monotonic()),
            "output": max(0, lim.output - parent.out_len)}
    asked = {"steps": _limit(o, "steps", int), "memory": _limit(o, "memory", int),
             "time": _limit(o, "seconds", (int, float)), "output": None}
    # A limit the caller's remainder sets is the caller's own: running it out stops the caller.
    callers = {k for k in left if asked[k] is None or asked[k] >= left[k]}
    given = {k: left[k] if k in callers else asked[k] for k in left}
    limits = lim.narrow(steps=int(given["steps"]), memory=int(given["memory"]),
                                   seconds=float(given["time"]), output=int(given["output"]))
    kid_env.limits = limits
    before = len(parent.out)
    try:
        value = run(kid_env, form, limits, out=parent.out).value
    except BudgetExceeded as e:
        if e.budget in ("interrupt", "pause") or e.budget in callers:
            raise       # stopped, or the caller's own remainder ran out: the caller stops too
        raise SandboxFailure(f"budget exceeded: {e.message}") from None
    finally:
        parent.out_len += sum(len(t) for t in parent.out[before:])
    _procedures(value, "the value")
    return value


@primitive("capabilities")
def capabilities() -> Any:
    """(capabilities) -> the capability groups the running environment was granted, as keywords."""
    from ..types import make_list
    env = budget.current().ns["_env"]
    return make_list([Keyword(c) for c in sorted(env.caps)])
