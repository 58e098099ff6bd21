"""Loading Lisp values from a database: lazily, and into the right world.

Opening a world binds no stored definition: a `WorldEnvironment` binds a
name when something first needs it (a top-level form or a loaded closure
that mentions it, a call the compiler analyses, a lookup), so opening a
world of 10 000 definitions and calling one loads only what that call uses.
A stored closure is its lambda's template and captured values; compiling the
template is the expensive part, so a closure comes back with a `Pending`
function that compiles it when it is first called. Every closure loaded in a
connection runs in that world's environment. The same rules serve
plain-pickle copies of values (snapshots), through `copy`.
"""
from __future__ import annotations

import io
import pickle
import weakref
from types import CellType
from typing import Any, Callable, Iterator, Protocol

from ..lisp.env import Environment, environment_by_id
from ..lisp.budget import DEFAULT_LIMITS, Limits
from ..lisp.types import VOID, Closure, LispMap, Pair, Symbol, Template, Unbuilt

ENV_GLOBAL = ("world.lisp.env", "environment_by_id")
# For each connection, the function that finds the environment its closures run in.
HOMES: "weakref.WeakKeyDictionary[Any, Callable[[str], Environment]]" = weakref.WeakKeyDictionary()


class _Code:
    """Stands in for a code object: only the captured names are asked for."""

    __slots__ = ("co_freevars",)

    def __init__(self, free: tuple[str, ...]) -> None:
        self.co_freevars = free


class Pending(Unbuilt):
    """The Python function of a loaded closure, compiled on its first call."""

    __slots__ = ("proc", "tmpl", "captured")

    def __init__(self, proc: Closure, tmpl: Template, captured: tuple) -> None:
        self.proc, self.tmpl, self.captured = proc, tmpl, captured

    def __call__(self, *args: Any) -> Any:
        return self.force()(*args)

    def restore(self, proc: Closure, captured: Any) -> None:
        """Set the captured values of a shell (`closure_shell`), checked: a record gave them."""
        from .allowlist import Refused
        if (proc is not self.proc or type(captured) is not tuple
                or len(captured) != len(self.tmpl.free)):
            raise Refused("a malformed closure")
        self.captured = captured

    def force(self) -> Callable:
        """Compile the closure and put the real function in its place."""
        from ..lisp import budget
        from ..lisp.compiler import closure_factory
        env = self.tmpl.home
        with budget.uncharged():        # loading, not the program's work: steps stay the same
            if type(env) is WorldEnvironment:       # the globals its code names, bound first
                env.prepare(self.tmpl.form)
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


class Binder(Protocol):
    """What binds a world's stored definitions in its environment (a `Namespace`)."""

    def ensure(self, name: str) -> bool: ...

    def load_all(self) -> None: ...


def symbols_in(form: Any) -> Iterator[str]:
    """The name of every symbol in a form, quoted data included (no recursion; shared
    structure, such as a built form quoting a DAG, is visited once)."""
    todo = [form]
    seen: set[int] = set()
    while todo:
        x = todo.pop()
        t = type(x)
        while t is Pair and id(x) not in seen:
            seen.add(id(x))
            todo.append(x.car)
            x = x.cdr
            t = type(x)
        if t is Symbol:
            yield x.name
        elif t is Pair or id(x) in seen:
            continue
        elif t is tuple:
            seen.add(id(x))
            todo.extend(x)
        elif t is LispMap:
            seen.add(id(x))
            for k, v in x.items():
                todo.append(k)
                todo.append(v)


class WorldEnvironment(Environment):
    """An environment whose stored globals are bound when first needed.

    Its `binder` binds one stored name on request. The environment's own
    ways of reading globals (lookup, is_bound, set!, names, globals, the
    compiler's look at each call) ask it first; code compiled from a form
    has the form's names bound by `prepare` before it runs.
    """

    def __init__(self, caps: Any = (), limits: Limits = DEFAULT_LIMITS,
                 uid: str | None = None) -> None:
        super().__init__(caps, limits, uid)
        self.binder: Binder | None = None
        self.docs = LazyDocs(self)

    def ensure(self, name: str) -> bool:
        """Bind stored `name` if it is stored and not bound yet; say whether it was."""
        binder = self.binder
        return binder is not None and binder.ensure(name)

    def ensure_all(self) -> None:
        """Bind every stored definition."""
        if self.binder is not None:
            self.binder.load_all()

    def prepare(self, form: Any) -> None:
        """Bind the stored definitions `form` mentions."""
        binder = self.binder
        if binder is not None:
            seen: set[str] = set()
            for name in symbols_in(form):
                if name not in seen:
                    seen.add(name)
                    binder.ensure(name)

    def lookup(self, sym: Symbol) -> Any:
        self.ensure(sym.name)
        return super().lookup(sym)

    def is_bound(self, sym: Symbol) -> bool:
        self.ensure(sym.name)
        return super().is_bound(sym)

    def inlinable(self, sym: Symbol) -> Any:
        self.ensure(sym.name)
        return super().inlinable(sym)

    def _setg(self, sym: Symbol, value: Any) -> None:
        self.ensure(sym.name)
        super()._setg(sym, value)

    def names(self) -> list[Symbol]:
        self.ensure_all()
        return super().names()

    def globals(self) -> dict[Symbol, Any]:
        self.ensure_all()
        return super().globals()

    def known_names(self) -> list[str]:
        """The bound names and the stored ones not bound yet (binding none of them)."""
        names = set(super().known_names())
        for tree in (getattr(self.binder, "defs", None), getattr(self.binder, "macros", None)):
            if tree is not None:
                names.update(tree.keys())
        return sorted(names)


class LazyDocs(dict):
    """An environment's docstrings; asking for one binds its stored definition."""

    def __init__(self, env: WorldEnvironment) -> None:
        super().__init__()
        self.env = env

    def _want(self, sym: Any) -> None:
        if type(sym) is Symbol and not dict.__contains__(self, sym):
            self.env.ensure(sym.name)

    def __missing__(self, sym: Any) -> str:
        self._want(sym)
        if dict.__contains__(self, sym):
            return dict.__getitem__(self, sym)
        raise KeyError(sym)

    def get(self, sym: Any, default: Any = None) -> Any:
        self._want(sym)
        return dict.get(self, sym, default)

    def __contains__(self, sym: Any) -> bool:
        self._want(sym)
        return dict.__contains__(self, sym)

    def __iter__(self) -> Iterator[Symbol]:
        self.env.ensure_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.env.ensure_all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self.env.ensure_all()
        return dict.keys(self)

    def values(self) -> Any:
        self.env.ensure_all()
        return dict.values(self)

    def items(self) -> Any:
        self.env.ensure_all()
        return dict.items(self)

    def __reduce__(self) -> Any:
        return (dict, (dict(self.items()),))


def rebuild_closure(tmpl: Template, captured: tuple) -> Closure:
    """Unpickle a closure without compiling it yet."""
    proc = Closure(None, tmpl)
    proc.fn = Pending(proc, tmpl, captured)
    return proc


def closure_shell(tmpl: Template) -> Closure:
    """Unpickle a closure that `Closure.__setstate__` completes, without compiling it yet;
    until then its captured values are void."""
    return rebuild_closure(tmpl, (VOID,) * len(tmpl.free))


def home(env: Environment) -> Callable[[str], Environment]:
    """What unpickling calls to find a closure's environment: `env` for its own id."""
    def find(uid: str) -> Environment:
        return env if uid == env.uid else environment_by_id(uid)
    return find


def substitute(module: str, name: str) -> Any:
    """The loader's replacement for a pickled global, or None to use the real one."""
    if module == "world.lisp.types" and name == "_rebuild_closure":
        return rebuild_closure
    if module == "world.lisp.types" and name == "closure_shell":
        return closure_shell
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
