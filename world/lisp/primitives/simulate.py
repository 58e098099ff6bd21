"""`(simulate :name N :initial-state S :frame F :inputs XS ...)`: a frame procedure run over a
state, once per input, in a narrowed child sandbox.

The frame runs in a fresh environment, never in the caller's: F (and every procedure it
captures) is written as its lambda source plus captured data, exactly as a suspension
writes an environment (suspend.py), and rebuilt there. The caller's globals that F's
source names are carried along the same way (procedures as source, data as data, a
primitive only if the child is granted it); anything else it names stays unbound in the
child. So a procedure defined in the owner's world runs under the child's grant: a
captured primitive the child is not granted is refused, and a global the owner alone may
call (`inspect`, `world/save`) is simply not there.

Each level's constitution narrows: the child is granted the caller's groups that it asks
for (`:caps`, by default `core`, `output` and `simulate`), and a share of the caller's
remaining budget (`:steps`/`:memory`, by default half of what is left; time and output are
the caller's own unless asked). Every step is charged to the caller as it runs. Running
out of the child's own share raises a SandboxFailure the caller can `guard`; running out of
what the caller itself has left stops the caller, as with `sandbox`. Simulations nest to
MAX_DEPTH levels; one more is a SandboxFailure. State, inputs and each frame's state
cross as data only.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from .. import budget
from ..calls import call
from ..errors import BudgetExceeded, LispTypeError, SandboxError, SandboxFailure, UnboundVariable
from ..types import (Closure, Keyword, LispMap, Pair, Primitive, Procedure, Record, RecordType,
                     Symbol, make_list)
from . import CAPABILITIES, GROUPS, primitive
from .sandbox import _caps, _procedures

MAX_DEPTH = 3
"""Simulations nest at most this deep (the outermost is depth 1)."""

DEFAULT_CAPS = ("core", "output", "simulate")
OPTIONS = ("name", "initial-state", "frame", "inputs", "return-after-frames",
           "caps", "steps", "memory", "seconds")
REQUIRED = ("initial-state", "frame", "inputs")

# Names a program cannot type (`#:` does not start a symbol the reader reads bare): the
# child's bindings of the frame and of the host loop that runs the frames, and the form
# that calls that loop.
_FRAME, _RUN = Symbol("#:frame"), Symbol("#:run")
_RUN_FORM = Pair(_RUN, None)


def _options(opts: tuple) -> dict[str, Any]:
    if len(opts) % 2:
        raise LispTypeError("simulate: options come in pairs, :key value")
    out: dict[str, Any] = {}
    for k, v in zip(opts[::2], opts[1::2]):
        if type(k) is not Keyword or k.name not in OPTIONS:
            what = f" :{k.name}" if type(k) is Keyword else ""
            raise LispTypeError(f"simulate: unknown option{what}; expected one of :{' :'.join(OPTIONS)}")
        if k.name in out:
            raise LispTypeError(f"simulate: option :{k.name} given twice")
        out[k.name] = v
    for k in REQUIRED:
        if k not in out:
            raise LispTypeError(f"simulate: :{k} is required")
    return out


def _number(o: dict[str, Any], key: str, kind: type | tuple) -> Any:
    """The non-negative number given for `key`, or None."""
    v = o.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, kind) or not v >= 0:      # NaN is no limit
        noun = "integer" if kind is int else "number"
        raise LispTypeError(f"simulate: :{key} expects a non-negative {noun}")
    return v


def _inputs(x: Any) -> list[Any]:
    """The inputs, from a proper list or a vector (charged per element)."""
    if type(x) is tuple:
        budget.charge(len(x))
        return list(x)
    items: list[Any] = []
    while type(x) is Pair:
        items.append(x.car)
        x = x.cdr
        if len(items) & 1023 == 0:
            budget.charge(1024)
    if x is not None:
        raise LispTypeError("simulate: :inputs expects a list or a vector of inputs")
    budget.charge(len(items) & 1023)
    return items


def _data(x: Any, who: str) -> None:
    """Refuse `x` if it holds any procedure, a primitive included; charged per node visited."""
    _procedures(x, who, primitives=True, across="a simulation's")


def _depth() -> int:
    """How deep in simulations the running evaluation is: the deepest marked environment
    among the meters it runs under (a `sandbox` inside a simulation stays inside it)."""
    m: budget.Meter | None = budget.current()
    depth = 0
    while m is not None:
        depth = max(depth, getattr(m.ns.get("_env"), "sim_depth", 0))
        m = m.parent
    return depth


def _groups(env: Any) -> set[str]:
    """The capability groups `env` holds: granted by name, or every primitive of it granted."""
    return {g for g in CAPABILITIES if g != "internal"
            and (g in env.caps or (GROUPS.get(g) and GROUPS[g] <= env.granted))}


def _symbols(form: Any) -> list[str]:
    """Every symbol name in a form, quoted data included (no recursion, shared parts once)."""
    todo, seen, out = [form], set(), []
    while todo:
        x = todo.pop()
        t = type(x)
        if t is Symbol:
            out.append(x.name)
        elif t in (Pair, tuple, LispMap) and id(x) not in seen:
            seen.add(id(x))
            if t is Pair:
                todo += (x.car, x.cdr)
            elif t is tuple:
                todo += x
            else:
                for k, v in x.items():
                    todo += (k, v)
    budget.charge(len(seen))
    return out


def _carry(frame: Closure, home: Any, kid: Any, behind: dict[str, str]) -> dict[str, Any]:
    """An environment document (suspend.py's) holding `frame` as `#:frame`, and the caller's
    globals and macros its procedures name, transitively: what the child is rebuilt from.
    The names left behind go in `behind`, with why (said if the child finds them unbound)."""
    from ..suspend import _Snapshot

    class Snapshot(_Snapshot):
        def value(self, v: Any, where: str) -> dict[str, Any]:
            if isinstance(v, Procedure) and type(v) not in (Closure, Primitive):
                kind = "a continuation" if "Continuation" in type(v).__name__ else "a parameter"
                raise SandboxError(f"cannot suspend: {where} holds {kind}")
            if type(v) is RecordType or type(v) is Record:     # a record type has no source
                raise SandboxError(f"cannot suspend: {where} holds a record type or record")
            return super().value(v, where)

        def datum(self, v: Any, where: str) -> str:
            try:
                return super().datum(v, where)
            except SandboxError as e:
                if not e.message.endswith(" holds a value"):
                    raise
                raise SandboxError(f"cannot suspend: {where} holds a value with no source text "
                                   "(such as a record type)") from None

        def procedure(self, c: Closure, where: str) -> dict[str, Any]:
            force = getattr(c.fn, "force", None)    # a procedure loaded from the image, not yet compiled
            if force is not None:
                force()
            return super().procedure(c, where)

    def writable(v: Any, where: str) -> bool:
        trial = Snapshot()
        try:
            trial.value(v, where)
            trial.drain()
            return True
        except SandboxError as e:
            behind[where] = e.message.replace("cannot suspend: ", "")
            return False
        finally:
            budget.charge(trial.nodes + len(trial.objects))

    s = Snapshot()
    globs = [{"name": _FRAME.name, "value": s.value(frame, "the frame")}]
    macros: list[dict[str, Any]] = []
    seen: set[str] = {_FRAME.name}
    walked = 0
    while True:
        s.drain()
        if walked == len(s.keep):
            break
        fresh, walked = s.keep[walked:], len(s.keep)
        for obj in fresh:
            if type(obj) is not Closure:
                continue
            for name in _symbols(obj.tmpl.form):
                if name in seen:
                    continue
                seen.add(name)
                sym = Symbol(name)
                if not home.is_bound(sym) and sym not in home.macros:
                    continue
                m = home.macros.get(sym)
                if m is not None:
                    if type(m).__name__ == "SyntaxRules":
                        from ..printer import write
                        macros.append({"name": name, "syntax": write(m.spec)})
                    elif writable(m, f"macro {name}"):
                        macros.append({"name": name, "value": s.value(m, f"macro {name}")})
                    continue
                v = home.lookup(sym)
                if type(v) is Primitive:
                    # A primitive goes only where it is granted; the child binds its own by name.
                    if v.name in kid.granted and Primitive.registry.get(v.name) is v:
                        if v.name != name:
                            globs.append({"name": name, "value": {"primitive": v.name}})
                    else:
                        behind[name] = f"it is the primitive {v.name}, which the simulation is not granted"
                    continue
                if writable(v, name):       # what cannot be written stays behind, unbound
                    globs.append({"name": name, "value": s.value(v, name)})
    budget.charge(s.nodes + len(s.objects))
    for o in s.objects:         # said here, by name, rather than by the rebuild's object number
        vals = [o["box"]] if "box" in o else [c["value"] for c in o["procedure"]["captured"]]
        for v in vals:
            if "primitive" in v and v["primitive"] not in kid.granted:
                name = o["procedure"]["name"] if "procedure" in o else "lambda"
                who = f"procedure {name}" if name != "lambda" else "a procedure it carries"
                raise SandboxFailure(f"simulate: {who} captures the primitive {v['primitive']}, "
                                     "which the simulation is not granted")
    return {"gensyms": 0, "objects": s.objects, "globals": globs, "macros": macros, "docs": []}


def _child(o: dict[str, Any], home: Any) -> Any:
    """The child environment, granted the caller's groups it asks for."""
    asked = _caps(o["caps"]) if "caps" in o else frozenset(DEFAULT_CAPS)
    caps = asked & _groups(home)
    try:
        kid = home.child(sorted(caps), inherit=False)
    except SandboxError as e:
        raise SandboxFailure(f"simulate: {e.message}") from None
    return kid


def _install(frame: Any, home: Any, kid: Any, behind: dict[str, str]) -> None:
    """Bind the frame procedure in the child, rebuilt from source under the child's grant."""
    from ..suspend import _metered, _rebuild
    if type(frame) is Primitive:
        if frame.name not in kid.granted or Primitive.registry.get(frame.name) is not frame:
            raise SandboxFailure(f"simulate: the frame is the primitive {frame.name}, "
                                 "which the simulation is not granted")
        kid.define(_FRAME, frame)
        return
    if type(frame) is not Closure:
        raise LispTypeError("simulate: :frame expects a procedure of (state input)")
    try:
        doc = _carry(frame, home, kid, behind)
        _metered(kid, lambda: _rebuild(doc, kid))
    except SandboxError as e:
        msg = e.message.replace("cannot suspend: ", "cannot carry into the simulation: ")
        raise SandboxFailure(f"simulate: {msg}") from None


@primitive("simulate", group="simulate")
def simulate(*opts: Any) -> Any:
    """(simulate :name "mars" :initial-state S :frame F :inputs XS :return-after-frames N
    :caps [..] :steps N :memory B :seconds S) -> {:name :state :frames :steps :depth}."""
    from ..runtime import run
    parent = budget.current()
    home = parent.ns["_env"]
    o = _options(opts)
    name = o.get("name", "simulation")
    if type(name) is not str:
        raise LispTypeError("simulate: :name expects a string")
    inputs = _inputs(o["inputs"])
    n = _number(o, "return-after-frames", int)
    count = len(inputs) if n is None else min(n, len(inputs))
    depth = _depth() + 1
    if depth > MAX_DEPTH:
        raise SandboxFailure(f"simulate: depth {depth} exceeds the limit of {MAX_DEPTH}")
    state = o["initial-state"]
    _data(state, "simulate: :initial-state")
    _data(o["inputs"], "simulate: :inputs")
    kid = _child(o, home)
    kid.sim_depth = depth

    lim = parent.limits
    parent.sync()
    left = {"steps": max(0, lim.steps - parent.base), "memory": max(0, lim.memory - parent.mem),
            "time": max(0.0, parent.deadline - time.monotonic()),
            "output": max(0, lim.output - parent.out_len)}
    asked = {"steps": _number(o, "steps", int), "memory": _number(o, "memory", int),
             "time": _number(o, "seconds", (int, float)), "output": None}
    share = {"steps": left["steps"] // 2, "memory": left["memory"] // 2,
             "time": left["time"], "output": left["output"]}
    # A limit the caller's remainder sets is the caller's own: running it out stops the caller.
    callers = {k for k in left if (asked[k] is None and share[k] >= left[k])
               or (asked[k] is not None and asked[k] >= left[k])}
    given = {k: left[k] if k in callers else (share[k] if asked[k] is None else asked[k])
             for k in left}
    used = {"steps": 0, "memory": 0, "output": 0}
    began = time.monotonic()

    def limits() -> budget.Limits:
        return lim.narrow(steps=int(max(0, given["steps"] - used["steps"])),
                          memory=int(max(0, given["memory"] - used["memory"])),
                          seconds=max(0.0, given["time"] - (time.monotonic() - began)),
                          output=int(max(0, given["output"] - used["output"])))

    def charged(fn: Callable[[], Any], what: "str | Callable[[], str]") -> Any:
        """Run `fn` on the child's remaining share; count what it used."""
        parent.sync()
        steps0, mem0, before = parent.base, parent.mem, len(parent.out)
        kid.limits = limits()
        try:
            return fn()
        except UnboundVariable as e:
            why = behind.get(e.name())
            if why is not None and "_hint" not in e.__dict__:
                e.__dict__["_hint"] = f"the caller's {e.name()} stays outside the simulation: {why}"
            raise
        except BudgetExceeded as e:
            if e.budget in ("interrupt", "pause") or e.budget in callers:
                raise       # stopped, or the caller's own remainder ran out: the caller stops too
            what = what if type(what) is str else what()
            raise SandboxFailure(f"simulate {name}: {what}: budget exceeded: {e.message}") from None
        finally:
            written = sum(len(t) for t in parent.out[before:])
            parent.out_len += written
            parent.sync()
            used["steps"] += parent.base - steps0
            used["memory"] += parent.mem - mem0
            used["output"] += written

    behind: dict[str, str] = {}
    charged(lambda: _install(o["frame"], home, kid, behind), "building the frame")
    frames: list[Any] = []
    at = [0]        # the frame running now, for the error that stops it

    def frames_loop() -> Any:
        """Run the frames, inside the child's evaluation: every step of F, and the check of
        each state it returns, is on the child's meter."""
        if at[0]:
            raise SandboxFailure(f"simulate {name}: its frames are already running")
        f = kid.lookup(_FRAME)
        s = state
        for i in range(count):
            at[0] = i + 1
            s = call(f, s, inputs[i])
            _data(s, f"simulate {name}: the state after frame {i + 1}")
            frames.append(s)
        return s

    # Bound under a name no program can type, and unbound once the frames have run.
    kid.define(_RUN, Primitive(_RUN.name, frames_loop))
    try:
        state = charged(lambda: run(kid, _RUN_FORM, kid.limits, out=parent.out).value,
                        lambda: f"frame {at[0]}")
    finally:
        kid.unbind(_RUN)
    budget.alloc((len(frames) + 5) * budget.PAIR_BYTES)
    return LispMap([(Keyword("name"), name), (Keyword("state"), state),
                    (Keyword("frames"), make_list(frames)), (Keyword("steps"), used["steps"]),
                    (Keyword("depth"), depth)])
