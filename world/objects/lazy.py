"""Loading Lisp values from a database: closures compile on their first call,
and every closure loaded in a connection runs in that world's environment.

A stored closure is its lambda's template and captured values; compiling the
template is the expensive part of loading, so a closure comes back with a
`Pending` function that compiles it when it is first called. The same rules
serve plain-pickle copies of values (snapshots), through `copy`.
"""
from __future__ import annotations

import io
import pickle
import weakref
from types import CellType
from typing import Any, Callable

from ..lisp.env import Environment, environment_by_id
from ..lisp.types import Closure, Template

ENV_GLOBAL = ("world.lisp.env", "environment_by_id")
# For each connection, the function that finds the environment its closures run in.
HOMES: "weakref.WeakKeyDictionary[Any, Callable[[str], Environment]]" = weakref.WeakKeyDictionary()


class _Code:
    """Stands in for a code object: only the captured names are asked for."""

    __slots__ = ("co_freevars",)

    def __init__(self, free: tuple[str, ...]) -> None:
        self.co_freevars = free


class Pending:
    """The Python function of a loaded closure, compiled on its first call."""

    __slots__ = ("proc", "tmpl", "captured")

    def __init__(self, proc: Closure, tmpl: Template, captured: tuple) -> None:
        self.proc, self.tmpl, self.captured = proc, tmpl, captured

    def __call__(self, *args: Any) -> Any:
        return self.force()(*args)

    def force(self) -> Callable:
        """Compile the closure and put the real function in its place."""
        from ..lisp.compiler import closure_factory
        fn = closure_factory(self.tmpl)(*self.captured)
        self.proc.fn = fn
        return fn

    # `Closure.captured()` reads these to pickle a closure again.
    @property
    def __closure__(self) -> tuple:
        return tuple(CellType(v) for v in self.captured)

    @property
    def __code__(self) -> _Code:
        return _Code(self.tmpl.free)


def rebuild_closure(tmpl: Template, captured: tuple) -> Closure:
    """Unpickle a closure without compiling it yet."""
    proc = Closure(None, tmpl)
    proc.fn = Pending(proc, tmpl, captured)
    return proc


def home(env: Environment) -> Callable[[str], Environment]:
    """What unpickling calls to find a closure's environment: `env` for its own id."""
    def find(uid: str) -> Environment:
        return env if uid == env.uid else environment_by_id(uid)
    return find


def substitute(module: str, name: str) -> Any:
    """The loader's replacement for a pickled global, or None to use the real one."""
    if module == "world.lisp.types" and name == "_rebuild_closure":
        return rebuild_closure
    return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, env: Environment) -> None:
        super().__init__(io.BytesIO(data))
        self.env = env

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ENV_GLOBAL:
            return home(self.env)
        return substitute(module, name) or super().find_class(module, name)


def copy(value: Any, env: Environment) -> Any:
    """A deep copy of a graph of Lisp values: sharing inside it is kept, and
    its boxes and records are new objects that belong to no database yet."""
    return _Unpickler(pickle.dumps(value, protocol=5), env).load()
