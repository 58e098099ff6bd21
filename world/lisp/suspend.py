"""Paused evaluations as data: the `world-suspension/1` text format.

Evaluation is deterministic, so a paused evaluation is fully described by
the environment it started in, its program text and the step at which it
paused. Resuming (in any process) replays the program up to that step
without repeating its output, then carries on: the same final value, the
same total step count. Nothing here is pickled: a suspension is a JSON
document whose Lisp parts are source text, read back only with the world's
reader and compiled by the sandbox's own compiler, so loading a hostile one
cannot run host code; it can only run Lisp under the resumer's grants.

The document (UTF-8 JSON, ASCII-escaped) is one object with exactly these keys:

    format        "world-suspension/1"
    program       the program's text (every top-level form, as written)
    step          the step at which it paused, counted from the program's start
    delivered     characters of output produced before the pause
    limits        {"steps": N, "memory": N, "seconds": S, ...}: the `Limits` fields
    capabilities  the capability groups (or primitive names) it ran with
    environment   the environment as it was before the program ran:
      gensyms     the gensym counter
      objects     procedures and boxes, each {"procedure": P} or {"box": V}
      globals     [{"name": "sum", "value": V}, ...], in definition order
      macros      [{"name": "unless", "value": V}, ...]; V is a procedure
      docs        [{"name": "sum", "doc": "..."}, ...]

A value V is an object with one key: {"datum": "<text>"} (readable data:
numbers, strings, characters, symbols, keywords, lists, vectors, maps),
{"primitive": "car"} (a primitive, bound only if the resumer grants it),
{"void": true}, or {"ref": i} (the i-th object). A procedure P is
{"name": "sum", "self": true, "source": "(lambda (n) ...)", "captured":
[{"var": "k", "boxed": false, "value": V}, ...]}: its lambda expression as
source and the values of the variables it closes over; a variable that is
`set!` is boxed, and its value is a ref to the box that holds it. Refs may form cycles (letrec, shared
counters). An environment holding anything else (continuations, records,
procedures inside data, forms with unreadable literals) cannot be suspended:
`start` refuses with a SandboxError.

Resuming grants the intersection of the suspension's capabilities and the
resumer's (`env_caps`, by default `core` and `output`) and the narrower of
each limit. Malformed documents of any kind are refused with one
SandboxError (or the reader's ReadError for Lisp text that does not read).
"""
from __future__ import annotations

import dataclasses
import json
import sys
from types import FunctionType
from typing import Any, Callable, Iterable

from . import budget
from .budget import DEFAULT_LIMITS, Limits, Meter, Paused
from .errors import LispError, SandboxError
from .printer import write
from .reader import read, read_all
from .suspend_check import FORMAT, MAX_BYTES, refuse, granted, parse
from .types import (VOID, Box, Char, Closure, Keyword, LispMap, Pair, Primitive, Symbol,
                    Template, equal)

RESUME_CAPS: tuple[str, ...] = ("core", "output")
"""What `resume` grants when the resumer names nothing: pure computation and its own output."""

MAX_NODES = 2_000_000               # data nodes written for one environment
_DATA = (int, float, str, bool, Symbol, Keyword, Char, type(None), bytes)
_LAMBDA = Symbol("lambda")


# ---------------------------------------------------------------- the suspension

class Suspension:
    """A paused evaluation, as a document that any process can resume."""

    def __init__(self, text: str, step: int, delivered: int, limits: Limits,
                 caps: tuple[str, ...], environment: dict[str, Any]) -> None:
        self.text, self.step, self.delivered = text, step, delivered
        self.limits, self.caps, self.environment = limits, caps, environment
        self.output = ""        # output of the leg that ended in this pause (not stored)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "program": self.text, "step": self.step,
                "delivered": self.delivered, "limits": dataclasses.asdict(self.limits),
                "capabilities": list(self.caps), "environment": self.environment}

    def to_text(self) -> str:
        """The suspension as `world-suspension/1` JSON text."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=True, indent=1)

    def to_bytes(self) -> bytes:
        return self.to_text().encode("ascii")

    @classmethod
    def from_text(cls, text: str) -> "Suspension":
        """Parse and check a suspension document; nothing in it runs."""
        return cls(*parse(text))

    @classmethod
    def from_bytes(cls, data: bytes) -> "Suspension":
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise refuse("expected bytes")
        if len(data) > MAX_BYTES:
            raise refuse(f"document longer than {MAX_BYTES} bytes")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise refuse("not UTF-8 text") from None
        return cls.from_text(text)


# ---------------------------------------------------------------- writing an environment

class _Snapshot:
    """Walks an environment's globals and macros into the document's values and objects."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []              # holds walked objects so ids stay unique
        self.todo: list[tuple[int, Any]] = []
        self.nodes = 0

    def value(self, v: Any, where: str) -> dict[str, Any]:
        t = type(v)
        if v is VOID:
            return {"void": True}
        if t is Primitive:
            if Primitive.registry.get(v.name) is not v:
                raise _cannot(where, "an unregistered primitive")
            return {"primitive": v.name}
        if t is Closure or t is Box:
            i = self.ids.get(id(v))
            if i is None:
                i = self.ids[id(v)] = len(self.objects)
                self.objects.append(None)
                self.keep.append(v)
                self.todo.append((i, v))
            return {"ref": i}
        return {"datum": self.datum(v, where)}

    def datum(self, v: Any, where: str) -> str:
        """`v` written as text that reads back equal, or refused."""
        stack = [v]
        while stack:
            x = stack.pop()
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise _cannot(where, f"more than {MAX_NODES} data nodes")
            t = type(x)
            if t is Pair:
                stack += (x.car, x.cdr)
            elif t is tuple:
                stack += x
            elif t is LispMap:
                for k, val in x.items():
                    stack += (k, val)
            elif t not in _DATA and t.__name__ != "Fraction":
                raise _cannot(where, _what(x))
        text = write(v)
        try:
            back = read(text)
        except LispError:
            back = VOID
        if not equal(back, v):
            raise _cannot(where, f"a value that does not read back: {text[:60]}")
        return text

    def procedure(self, c: Closure, where: str) -> dict[str, Any]:
        t = c.tmpl
        where = f"procedure {t.name}" if t.name != "lambda" else where
        if not isinstance(c.fn, FunctionType):
            raise _cannot(where, "a procedure not yet compiled")
        from .compiler import _FREE, demangle
        captured = []
        for py, v in zip(t.free, c.captured()):
            m = _FREE.match(py)
            boxed = bool(m.group(3))
            if boxed and type(v) is not Box:
                raise _cannot(where, f"a captured variable {demangle(m.group(1))} out of its box")
            captured.append({"var": demangle(m.group(1)), "boxed": boxed,
                             "value": self.value(v, where)})
        return {"name": t.name, "self": bool(t.glob), "source": self.datum(t.form, where),
                "captured": captured}

    def drain(self) -> None:
        """Write every object reached so far (and those they reach)."""
        while self.todo:
            i, v = self.todo.pop()
            if type(v) is Box:
                self.objects[i] = {"box": self.value(v.v, "a box")}
            else:
                self.objects[i] = {"procedure": self.procedure(v, "a procedure")}


def _what(x: Any) -> str:
    from .runtime import _article, _lisp_type
    return _article(_lisp_type(type(x).__name__))


def _cannot(where: str, what: str) -> SandboxError:
    return SandboxError(f"cannot suspend: {where} holds {what}")


def snapshot(env: Any) -> dict[str, Any]:
    """The environment's definitions as a document part; refuses what has no source."""
    s = _Snapshot()
    try:
        macros = [{"name": sym.name, "syntax": write(m.spec)}     # syntax-rules: as its source
                  if type(m).__name__ == "SyntaxRules" else
                  {"name": sym.name, "value": s.value(m, f"macro {sym.name}")}
                  for sym, m in env.macros.items()]
        globs = [{"name": sym.name, "value": s.value(v, sym.name)}
                 for sym, v in env.globals().items()]
        s.drain()
    except LispError:
        raise
    except (RecursionError, MemoryError):
        raise SandboxError("cannot suspend: the environment is too large or too deep") from None
    docs = [{"name": sym.name, "doc": d} for sym, d in env.docs.items()]
    return {"gensyms": env.gensyms, "objects": s.objects, "globals": globs,
            "macros": macros, "docs": docs}


# ---------------------------------------------------------------- rebuilding an environment

def _rebuild(doc: dict[str, Any], env: Any) -> None:
    """Fill the fresh `env` from an environment part (checked by `_check_env`)."""
    objects = doc["objects"]
    limits = env.limits
    built: list[Any] = [Box(VOID) if "box" in o else None for o in objects]

    def value(v: dict[str, Any], where: str) -> Any:
        (key, x), = v.items()
        if key == "datum":
            return read(x, where, max_depth=limits.read_depth)
        if key == "void":
            return VOID
        if key == "primitive":
            if x not in env.granted:
                raise refuse(f"{where} uses the primitive {x[:40]}, which is not granted")
            return Primitive.registry[x]
        got = built[x]
        if got is None:
            raise refuse(f"{where} refers to procedure {x} before it is built")
        return got

    def compile_one(i: int) -> None:
        from .compiler import closure_factory
        from .analyze import mangle
        p = objects[i]["procedure"]
        where = f"procedure {p['name'][:40]}"
        form = read(p["source"], where, max_depth=limits.read_depth)
        if type(form) is not Pair or form.car is not _LAMBDA or type(form.cdr) is not Pair:
            raise refuse(f"{where}: source is not a lambda expression")
        free = []
        for k, c in enumerate(p["captured"]):
            free.append(f"l_{mangle(c['var'])}_{k + 1}" + ("b" if c["boxed"] else ""))
        body = form.cdr.cdr
        doc = body.car if type(body) is Pair and type(body.car) is str \
            and type(body.cdr) is Pair else None
        tmpl = Template(form, p["name"], tuple(free), doc, p["self"], env)
        try:
            fn = closure_factory(tmpl)(*[VOID] * len(free))
        except SyntaxError:
            raise refuse(f"{where}: source nested too deeply to compile") from None
        built[i] = Closure(fn, tmpl)

    def patch(i: int) -> None:
        """Set the captured variables of procedure i (cycles allowed), or fill box i."""
        o = objects[i]
        if "box" in o:
            built[i].v = value(o["box"], f"object {i}")
            return
        c = built[i]
        cells = dict(zip(c.fn.__code__.co_freevars, c.fn.__closure__ or ()))
        for py, cap in zip(c.tmpl.free, o["procedure"]["captured"]):
            cell = cells.get(py)
            if cell is not None:
                cell.cell_contents = value(cap["value"], f"object {i}")

    def reach(roots: list[int]) -> list[int]:
        """Objects reachable from `roots` through captured values and boxes, in order."""
        seen, stack = set(), list(roots)
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            o = objects[i]
            vals = [o["box"]] if "box" in o else [c["value"] for c in o["procedure"]["captured"]]
            stack += [v["ref"] for v in vals if "ref" in v]
        return sorted(seen)

    done: set[int] = set()

    def build(ids: list[int]) -> None:
        todo = [i for i in ids if i not in done]
        for i in todo:
            if "procedure" in objects[i]:
                compile_one(i)
        for i in todo:
            patch(i)
        done.update(todo)

    # Names bound to procedures hold a placeholder while procedures compile, so a
    # global that shadows a primitive stops the compiler inlining that primitive.
    for g in doc["globals"]:
        v = g["value"]
        env.define(Symbol(g["name"]), VOID if "ref" in v else value(v, g["name"][:40]))
    for m in doc["macros"]:
        if "syntax" in m:
            from .syntax_rules import syntax_rules_from_source
            env.macros[Symbol(m["name"])] = syntax_rules_from_source(m["name"], m["syntax"])
            continue
        build(reach([m["value"]["ref"]]))
        env.macros[Symbol(m["name"])] = built[m["value"]["ref"]]
    build(list(range(len(objects))))
    for g in doc["globals"]:
        if "ref" in g["value"]:
            env.define(Symbol(g["name"]), built[g["value"]["ref"]])
    for d in doc["docs"]:
        env.docs[Symbol(d["name"])] = d["doc"]
    env.gensyms = doc["gensyms"]


def _metered(env: Any, fn: Callable[[], Any]) -> Any:
    """Run `fn` (which may expand macros, i.e. run Lisp) under `env`'s limits."""
    from .runtime import on_big_stack, translate

    def go() -> Any:
        meter = Meter(env.ns, env.limits)
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, env.limits.depth + 200))
        meter.start()
        try:
            return fn()
        except LispError:
            raise
        except Exception as e:
            err = translate(e)
            if isinstance(err, LispError):
                raise err from None
            raise refuse(f"environment cannot be rebuilt ({type(e).__name__})") from None
        finally:
            meter.stop()
            sys.setrecursionlimit(old)
    return go() if budget.running() is not None else on_big_stack(go)


def restore(susp: Suspension, env_caps: Iterable[str] | None = None,
            limits: Limits | None = None) -> Any:
    """A fresh environment rebuilt from `susp`, granted at most `env_caps` and `limits`."""
    from .env import Environment
    mine = tuple(RESUME_CAPS if env_caps is None else env_caps)
    prims = granted(susp.caps) & granted(mine)
    groups = set(susp.caps) & set(mine)
    caps = groups if granted(groups) == prims else prims
    lim = (limits or DEFAULT_LIMITS).narrow(**dataclasses.asdict(susp.limits))
    env = Environment(sorted(caps), lim)
    _metered(env, lambda: _rebuild(susp.environment, env))
    return env


# ---------------------------------------------------------------- running

def _drive(env: Any, text: str, limits: Limits, pause_at: int | None
           ) -> tuple[Any, int, list[str], bool]:
    """Run every form of `text`: (value, steps, output pieces, whether it paused)."""
    from .runtime import run
    out: list[str] = []
    value, steps = None, 0
    forms = read_all(text, max_depth=limits.read_depth)
    try:
        for form in forms:
            r = run(env, form, limits, pause_at=None if pause_at is None else pause_at - steps,
                    out=out)
            value, steps = r.value, steps + r.steps
    except Paused:
        return None, pause_at or 0, out, True
    return value, steps, out, False


def start(env: Any, text: str, pause_at: int, limits: Limits | None = None
          ) -> tuple[Any, Suspension | None]:
    """Evaluate `text`; if it reaches step `pause_at`, return a Suspension instead.

    The environment must be writable as source (see the module docstring);
    otherwise SandboxError, before anything runs.
    """
    from .runtime import Result
    if type(text) is not str:
        raise SandboxError("start: the program must be text")
    state = snapshot(env)
    caps = getattr(env, "caps", None)
    caps = tuple(sorted(caps if caps is not None else env.granted))
    lim = env.limits if limits is None else env.limits.narrow(**dataclasses.asdict(limits))
    value, steps, out, paused = _drive(env, text, lim, pause_at)
    output = "".join(out)
    if not paused:
        return Result(value, steps, output, 0), None
    susp = Suspension(text, pause_at, len(output), lim, caps, state)
    susp.output = output
    return None, susp


def resume(susp: Suspension, env_caps: Iterable[str] | None = None,
           limits: Limits | None = None, pause_at: int | None = None) -> Any:
    """Finish a paused evaluation: replay to its step silently, then continue.

    Runs with at most the suspension's and the resumer's capabilities and
    limits. With `pause_at` (a later step), returns a new Suspension if the
    evaluation gets that far; otherwise the Result, whose output is what
    was not delivered before.
    """
    from .runtime import Result
    if not isinstance(susp, Suspension):
        raise SandboxError("resume: expected a suspension")
    if pause_at is not None and (type(pause_at) is not int or pause_at <= susp.step):
        raise SandboxError(f"resume: pause step must be after step {susp.step}")
    env = restore(susp, env_caps, limits)
    value, steps, out, paused = _drive(env, susp.text, env.limits, pause_at)
    output = "".join(out)
    if len(output) < susp.delivered or (not paused and steps < susp.step):
        raise SandboxError(f"resume: the program does not reach its pause at step {susp.step}")
    if paused:
        again = Suspension(susp.text, pause_at, len(output), env.limits,
                           tuple(sorted(env.caps)), susp.environment)
        again.output = output[susp.delivered:]
        return again
    return Result(value, steps, output[susp.delivered:], 0)


__all__ = ["FORMAT", "RESUME_CAPS", "Suspension", "snapshot", "restore", "start", "resume"]
