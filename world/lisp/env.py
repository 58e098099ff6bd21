"""Environments: the global namespace a program runs in, and its capabilities.

An environment's namespace is the Python globals dict of the code compiled
for it: Lisp globals live there under mangled names beside the runtime's own
helpers, and nothing else is reachable (`__builtins__` is empty). Which
primitives are bound is the environment's capability set; `child()` can only
narrow it and the budget.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from types import FunctionType
import weakref
from typing import Any, Callable, Iterable, Iterator

from . import budget
from .analyze import SPECIAL, mangle
from .budget import DEFAULT_LIMITS, Limits
from .calls import TailCall, bounce, call
from .errors import EvalError, LispSyntaxError, LispTypeError, SandboxError, UnboundVariable
from .primitives import load as load_primitives, names_of
from .types import Box, Closure, Pair, Primitive, Symbol, VOID, make_list
from .printer import write

DefineHook = Callable[[Symbol, Any, Any, str, "str | None"], None]


def _cons(a: Any, b: Any) -> Pair:
    m = budget.CURRENT
    if m is not None:
        m.mem += budget.PAIR_BYTES
        if m.mem > m.limits.memory:
            m.alloc(0)
    return Pair(a, b)


def _list(items: tuple) -> Any:
    budget.alloc(len(items) * budget.PAIR_BYTES)
    return make_list(items)


def _eq(a: Any, b: Any) -> bool:
    from .types import eqv
    return a is b or eqv(a, b)


class Environment:
    """A sandbox: namespace, macros, docs, capabilities and limits."""

    registry: "weakref.WeakValueDictionary[str, Environment]" = weakref.WeakValueDictionary()
    sealed = False      # a sealed environment's globals cannot be defined or set (audit rules)
    guarded: frozenset[str] = frozenset()   # globals only trusted host code may rebind ...
    guard_reason = ""                       # ... (e.g. a lineage's evaluator), and why
    unguarded = 0                           # > 0 while that host code rebinds them

    def __init__(self, caps: Iterable[str] = (), limits: Limits = DEFAULT_LIMITS,
                 uid: str | None = None) -> None:
        from .runtime import CATCHABLE, condition
        from .dynamic import cut, guard_mark
        prims = load_primitives()
        self.caps = frozenset(caps)         # as granted: group names (or single primitive names)
        self.granted = names_of(self.caps)
        self.limits = limits
        self.uid = uid or uuid.uuid4().hex
        self.macros: dict[Symbol, Closure] = {}
        self.docs: dict[Symbol, str] = {}
        # Weak: a compiled procedure lives as long as a template that uses it, not forever.
        self.factories: "weakref.WeakValueDictionary[Any, Callable]" = weakref.WeakValueDictionary()
        self.hooks: list[DefineHook] = []
        self.gensyms = 0
        self.ns: dict[str, Any] = {
            "__builtins__": {}, "_n": 0, "_trap": budget.trap, "_type": type, "_int": int,
            "_Pair": Pair, "_Sym": Symbol, "_Prim": Primitive, "_TC": TailCall, "_bounce": bounce, "_C": Closure, "_Box": Box,
            "_VOID": VOID, "_list": _list, "_cons": _cons, "_define": self._define,
            "_setg": self._setg, "_Catch": CATCHABLE, "_cond": condition, "_env": self,
            "_gmark": guard_mark, "_gcut": cut,
        }
        for name in self.granted:
            self.ns["g_" + mangle(name)] = prims[name]
        Environment.registry[self.uid] = self

    def __reduce__(self):
        return (environment_by_id, (self.uid,))

    # ------------------------------------------------------------ bindings
    def define(self, sym: Symbol, value: Any) -> None:
        """Bind a global without running hooks (used when loading a world)."""
        self.ns["g_" + mangle(sym.name)] = value

    def ensure(self, name: str) -> bool:
        """Bind global `name` from wherever this environment keeps definitions it has not
        bound yet; say whether it did. A plain environment keeps none."""
        return False

    def lookup(self, sym: Symbol) -> Any:
        try:
            return self.ns["g_" + mangle(sym.name)]
        except KeyError:
            err = UnboundVariable(write(sym))
            err.candidates = self.known_names
            raise err from None

    def is_bound(self, sym: Symbol) -> bool:
        return ("g_" + mangle(sym.name)) in self.ns

    def unbind(self, sym: Symbol) -> None:
        self.ns.pop("g_" + mangle(sym.name), None)
        self.macros.pop(sym, None)
        self.docs.pop(sym, None)

    def names(self) -> list[Symbol]:
        """Every global name bound in this environment, primitives included."""
        from .compiler import demangle
        return sorted((Symbol(demangle(k[2:])) for k in self.ns if k.startswith("g_")),
                      key=lambda s: s.name)

    def known_names(self) -> list[str]:
        """Every name a program here may mean (globals, macros, special forms): what an
        unbound name's "did you mean" chooses from."""
        from .analyze import SPECIAL
        from .compiler import demangle
        names = {demangle(k[2:]) for k in self.ns if k.startswith("g_")}
        names.update(s.name for s in self.macros)
        names.update(s.name for s in SPECIAL)
        return sorted(names)

    def globals(self) -> dict[Symbol, Any]:
        """Globals that are not primitives granted by the capability set."""
        from .compiler import demangle
        out = {}
        for k, v in self.ns.items():
            if k.startswith("g_"):
                sym = Symbol(demangle(k[2:]))
                if not (type(v) is Primitive and sym.name in self.granted
                        and Primitive.registry.get(sym.name) is v):
                    out[sym] = v
        return out

    def inlinable(self, sym: Symbol) -> Primitive | None:
        """The primitive `sym` is bound to, if it is still the original one."""
        v = self.ns.get("g_" + mangle(sym.name))
        if type(v) is Primitive and Primitive.registry.get(sym.name) is v:
            return v
        return None

    def _define(self, sym: Symbol, value: Any, form: Any, kind: str, doc: str | None) -> Symbol:
        if self.sealed:
            raise SandboxError(f"define: this environment's globals are sealed ({sym.name})")
        if sym.name in self.guarded and not self.unguarded:
            raise SandboxError(f"define: {sym.name} {self.guard_reason}")
        if sym in SPECIAL:
            raise SandboxError(f"cannot redefine the special form {sym.name}")
        inlined = self.inlinable(sym) is not None
        if kind == "defmacro":
            if not isinstance(value, Closure) and type(value).__name__ != "SyntaxRules":
                raise LispTypeError(f"defmacro: {sym.name} is not a procedure")
            self.macros[sym] = value
        else:
            self.ns["g_" + mangle(sym.name)] = value
            self.macros.pop(sym, None)
        if doc:
            self.docs[sym] = doc
        else:
            self.docs.pop(sym, None)
        if inlined:
            self.recompile()
        with budget.host_work():        # recording the definition: its source, history, audit
            for hook in self.hooks:
                hook(sym, value, form, kind, doc)
        return sym

    def _setg(self, sym: Symbol, value: Any) -> None:
        if self.sealed:
            raise SandboxError(f"set!: this environment's globals are sealed ({sym.name})")
        if sym.name in self.guarded and not self.unguarded:
            raise SandboxError(f"set!: {sym.name} {self.guard_reason}")
        key = "g_" + mangle(sym.name)
        if key not in self.ns:
            raise UnboundVariable(f"set!: {write(sym)} is not defined")
        inlined = self.inlinable(sym) is not None
        self.ns[key] = value
        if inlined:
            self.recompile()
        with budget.host_work():
            for hook in self.hooks:
                hook(sym, value, None, "set!", None)

    def recompile(self) -> None:
        """Recompile the procedures reachable from the globals (a primitive they call directly changed)."""
        from .compiler import closure_factory
        self.factories.clear()
        seen: set[int] = set()
        todo = list(self.ns.values()) + list(self.macros.values())
        visits = 0
        while todo:
            v = todo.pop()
            visits += 1
            if visits >= 1024:      # charged per node visited; compiling is charged per node too
                budget.charge(visits)
                visits = 0
            t = type(v)
            if t not in (Pair, tuple, Box, Closure) or id(v) in seen:
                continue
            seen.add(id(v))
            if t is Pair:
                todo += (v.car, v.cdr)
            elif t is tuple:
                todo += v
            else:
                if t is Box:
                    todo.append(v.v)
                elif v.tmpl.home is self:
                    captured = v.captured()
                    todo += captured
                    v.tmpl._v_factory = None
                    if isinstance(v.fn, FunctionType):     # not one still waiting to compile
                        v.fn = closure_factory(v.tmpl)(*captured)

    @contextmanager
    def host_grant(self, caps: Iterable[str]) -> Iterator[None]:
        """Bind the primitives of `caps` while the host itself runs trusted text here
        (seeding a world's default rules), then take back those it bound."""
        prims = load_primitives()
        added = [k for k in ("g_" + mangle(n) for n in names_of(caps)) if k not in self.ns]
        for k in added:
            self.ns[k] = prims[demangle_key(k)]
        try:
            yield
        finally:
            for k in added:
                if self.ns.get(k) is prims[demangle_key(k)]:
                    del self.ns[k]

    # ------------------------------------------------------------ macros
    def expand(self, macro: Closure, form: Pair) -> Any:
        """Apply `macro` to the unevaluated operands of `form`."""
        args = []
        x = form.cdr
        while type(x) is Pair:
            args.append(x.car)
            x = x.cdr
        if x is not None:
            raise LispSyntaxError(f"{macro.name}: macro call is an improper list", form.loc)
        try:
            out = call(macro, *args)
        except TypeError as e:      # wrong number of operands, or a type error in the expander
            from .runtime import translate
            raise LispSyntaxError(f"{translate(e).message} (in the macro use "
                                  f"{write(form, 200)})", form.loc) from None
        if type(out) is Pair and out.loc is None:
            out.loc = form.loc
        return out

    def gensym(self, prefix: str = "g") -> Symbol:
        self.gensyms += 1
        # `#:` cannot start a symbol the reader reads bare, so no program types it by accident.
        return Symbol(f"#:{prefix}{self.gensyms}")

    # ------------------------------------------------------------ sandboxes
    def child(self, caps: Iterable[str] | None = None, limits: Limits | None = None,
              inherit: bool = True) -> "Environment":
        """A new environment with at most this one's capabilities and budget."""
        asked = self.caps if caps is None else frozenset(caps)
        refused = names_of(asked) - self.granted
        if refused:
            raise SandboxError(f"child cannot be granted {', '.join(sorted(refused))}")
        lim = self.limits if limits is None else self.limits.narrow(**limits.__dict__)
        kid = Environment(asked, lim)
        if inherit:
            for sym, v in self.globals().items():
                kid.define(sym, kid.rehome(v))
            kid.macros.update({s: kid.rehome(m) for s, m in self.macros.items()})
        return kid

    def rehome(self, v: Any) -> Any:
        """A closure recompiled to run in this environment, so its steps count here."""
        if type(v) is not Closure:
            return v
        from .compiler import closure_factory
        from .types import Template
        t = v.tmpl
        tmpl = Template(t.form, t.name, t.free, t.doc, t.glob, self)
        return Closure(closure_factory(tmpl)(*v.captured()), tmpl)


def demangle_key(key: str) -> str:
    """The Lisp name of a namespace key `g_...`."""
    from .compiler import demangle
    return demangle(key[2:])


def environment_by_id(uid: str) -> Environment:
    """The environment registered under `uid`, created empty if none is (unpickling)."""
    env = Environment.registry.get(uid)
    if env is None:
        env = Environment((), uid=uid)      # an unknown home: it is granted nothing
        PINNED.append(env)
    return env


PINNED: list[Environment] = []
