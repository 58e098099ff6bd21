"""`,trace NAME` and `,untrace [NAME]`: print each call of a procedure and its value.

A traced procedure keeps its identity: its `Closure` object stays bound and
stored as it was, only its volatile Python function (`Closure.fn`, which
pickling never writes: a closure pickles as its template and captured values)
is swapped for a `Traced` wrapper that delegates what pickling asks for to the
original. So nothing of the trace reaches the image or history, a definition
that stores the procedure stores the same closure, and `,untrace` puts the
original function back, exactly.

Trace lines are the running form's output (charged to its output budget),
indented by call depth; after `MAX_LINES` of them a form's trace says so once
and goes quiet, so a traced loop cannot flood the REPL. Tracing is by name:
after a redefinition, a rolled-back form or another session's change, the
name's new procedure is wrapped before the next form runs. The depth is reset
before each form, so an error inside a traced call leaves nothing askew. A
traced call waits for its value (tail calls included) and nests a few Python
frames, so traced recursion meets the depth limit sooner (a clean error).
"""
from __future__ import annotations

from typing import Any

from world.lisp import budget
from world.lisp.calls import TailCall, bounce
from world.lisp.printer import write
from world.lisp.types import Closure, Symbol, Unbuilt

VALUE_CHARS = 200       # characters of one argument or value shown
MAX_INDENT = 30         # deeper calls show their depth instead of more indentation
MAX_LINES = 5000        # trace lines one form prints; the calls after them run untraced-quiet


class Traced:
    """A traced procedure's function: the original, with a line before and after each call."""

    __slots__ = ("proc", "orig", "tracer")

    def __init__(self, proc: Closure, tracer: "Tracer") -> None:
        self.proc, self.orig, self.tracer = proc, proc.fn, tracer

    def __call__(self, *args: Any) -> Any:
        fn = self.orig
        if isinstance(fn, Unbuilt):         # a loaded closure compiles on its first call
            fn = self.orig = fn.force()     # (which rebinds `proc.fn`: take it back)
            self.proc.fn = self
        t = self.tracer
        depth = t.depth
        name = self.proc.name or "lambda"
        t.line(depth, "(" + " ".join([name] + [write(a, VALUE_CHARS) for a in args]) + ")")
        t.depth = depth + 1
        try:
            r = fn(*args)
            if type(r) is TailCall:         # the value is what the trace shows: wait for it
                r = bounce(r)
        finally:
            t.depth = depth
        t.line(depth, "=> " + write(r, VALUE_CHARS))
        return r

    # What pickling and `Closure.captured` read: the original's, so a traced closure
    # is stored exactly as an untraced one.
    @property
    def __closure__(self) -> Any:
        return self.orig.__closure__

    @property
    def __code__(self) -> Any:
        return self.orig.__code__


class Tracer:
    """The traced names of one REPL session and the wrappers made for them."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.wrapped: dict[str, list[Traced]] = {}      # name -> every wrapper made for it
        self.depth = 0
        self.lines = 0          # trace lines the running form printed

    @property
    def names(self) -> list[str]:
        """The traced names, in the order they were traced."""
        return list(self.wrapped)

    def line(self, depth: int, text: str) -> None:
        """Write one trace line to the running form's output."""
        meter = budget.running()
        if meter is None or self.lines > MAX_LINES:
            return
        self.lines += 1
        if self.lines > MAX_LINES:
            meter.write(f"; the trace stops after {MAX_LINES:,} lines (the form runs on)\n")
            return
        pad = "  " * min(depth, MAX_INDENT) + (f"[{depth}] " if depth > MAX_INDENT else "")
        meter.write(pad + text + "\n")

    def _procedure(self, name: str) -> Closure | None:
        env, sym = self.world.env, Symbol(name)
        if sym in env.macros and not env.is_bound(sym):
            return None
        try:
            value = env.lookup(sym)
        except Exception:
            return None
        return value if type(value) is Closure else None

    def trace(self, name: str) -> str | None:
        """Trace `name`; None if done, else why it cannot be traced."""
        env, sym = self.world.env, Symbol(name)
        if sym in env.macros and not env.is_bound(sym):
            return f"{name} is a macro: ,expand shows what it expands to"
        try:
            value = env.lookup(sym)
        except Exception:
            return f"{name} is not defined"
        if type(value) is not Closure:
            what = "a primitive" if callable(getattr(value, "fn", None)) else "not a procedure"
            return f"{name} is {what}: only procedures defined in the world can be traced"
        self.wrapped.setdefault(name, [])
        self.apply()
        return None

    def apply(self) -> None:
        """Wrap the procedure each traced name is bound to now, if it is not yet
        (before each form: its trace starts at depth 0, with no line printed)."""
        self.depth = self.lines = 0
        for name, made in self.wrapped.items():
            proc = self._procedure(name)
            if proc is not None and type(proc.fn) is not Traced:
                t = Traced(proc, self)
                proc.fn = t
                made.append(t)

    def untrace(self, name: str | None = None) -> list[str]:
        """Stop tracing `name` (None: every name); the names it stopped tracing."""
        names = self.names if name is None else [name] if name in self.wrapped else []
        for n in names:
            for t in self.wrapped.pop(n):
                if t.proc.fn is t:
                    t.proc.fn = t.orig
        return names
