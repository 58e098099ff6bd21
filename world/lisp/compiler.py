"""The compiler's entry points: a top-level form to a runnable thunk, and a
stored lambda template back to a Python function (after unpickling)."""
from __future__ import annotations

import itertools
import re
import types
import warnings
import weakref
from typing import Any, Callable

from . import ast as A
from . import budget
from .analyze import Analyzer, Scope
from .codegen import RET_DEST, Fn, Unit, assemble
from .printer import TRUNCATED, write
from .errors import LispSyntaxError
from .types import Pair, Symbol, Template

_units = itertools.count(1)
KEY_CHARS = 200_000     # lambda source longer than this is compiled afresh rather than cached
CODE_BYTES = 6          # accounted bytes of compiled code per character of generated Python


class LineMap:
    """Where the lines of one compiled unit came from: Lisp locations, procedure names
    (Python name to Lisp name) and the source text's name."""

    __slots__ = ("locs", "names", "source", "__weakref__")

    def __init__(self, locs: list[A.Loc], names: dict[str, str], source: str | None) -> None:
        self.locs, self.names, self.source = locs, names, source


# Every code object of a unit holds its LineMap as an extra constant, so the map lives
# exactly as long as some procedure compiled in that unit: a long-running process does
# not keep the maps of forms whose code is gone.
LINEMAPS: "weakref.WeakValueDictionary[str, LineMap]" = weakref.WeakValueDictionary()


def _holding(code: types.CodeType, info: LineMap) -> types.CodeType:
    """`code`, and the code nested in it, each with `info` among its constants."""
    consts = tuple(_holding(c, info) if type(c) is types.CodeType else c for c in code.co_consts)
    return code.replace(co_consts=consts + (info,))


def _build(unit: Unit, fn: Fn, inner: str, params: str, result: str,
           source: str | None) -> Callable:
    consts = [f"K{i}" for i in range(len(unit.consts))]
    header = [f"def _factory({', '.join(consts)}):", f"    def {inner}({params}):"]
    src, locs = assemble(unit, header, fn, [f"    return {result}"])
    budget.alloc(CODE_BYTES * len(src))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)     # `0 is False` is what we mean
        code = compile(src, unit.filename, "exec")
    info = LineMap(locs, unit.names, source)
    code = _holding(code, info)
    LINEMAPS[unit.filename] = info
    ns = unit.env.ns
    exec(code, ns)
    factory = ns.pop("_factory")
    return factory(*unit.consts)


def compile_form(env: Any, form: Any, source: str | None = None,
                 metered: bool = False) -> Callable[[], Any]:
    """Compile one top-level form into a thunk that runs it in `env`; `metered`
    (for forms a program made, such as `eval`'s) charges the budget per node."""
    node = Analyzer(env, metered=metered).analyze(form, None)
    unit = Unit(env, f"<lisp-{next(_units)}>")
    top = Fn(unit, "_top", None)
    top.depth = 2
    top.emit("global _n")
    top.stmt(node, RET_DEST)
    try:
        return _build(unit, top, "_top", "", "_top", source)
    except SyntaxError as e:       # Python's own parser limits, e.g. 100 levels of indentation
        raise LispSyntaxError(f"form nested too deeply to compile ({e.msg})",
                              form.loc if type(form) is Pair else None, source) from None


_FREE = re.compile(r"^l_(.*)_(\d+)(b?)$")


def demangle(text: str) -> str:
    """The Lisp name of a mangled Python identifier."""
    return re.sub(r"_([0-9a-f]+)_", lambda m: chr(int(m.group(1), 16)), text)


def closure_factory(tmpl: Template) -> Callable:
    """A function from captured values to the compiled Python function of `tmpl`."""
    factory = tmpl._v_factory
    if factory is not None:
        return factory
    env = tmpl.home
    text = write(tmpl.form, limit=KEY_CHARS)     # charged per node; a huge form is not cached
    key = None if text.endswith(TRUNCATED) else (text, tmpl.free, tmpl.glob, tmpl.name)
    factory = env.factories.get(key) if key is not None else None
    if factory is None:
        an = Analyzer(env, metered=True)
        outer = A.Lambda("outer", None)
        scope = Scope(None)
        for py in tmpl.free:
            m = _FREE.match(py)
            var = A.Var(Symbol(demangle(m.group(1))), f"l_{m.group(1)}_{m.group(2)}", outer)
            var.assigned = bool(m.group(3))
            scope.vars[var.sym] = var
        an.counter[0] = 1 + max((int(_FREE.match(p).group(2)) for p in tmpl.free), default=0)
        lam = an.lambda_(tmpl.form, scope, tmpl.name)
        if tmpl.glob:
            lam.self_sym = Symbol(tmpl.name)
        unit = Unit(env, f"<lisp-{next(_units)}>")
        unit.n = an.counter[0] + 1
        mk = Fn(unit, "_mk", None)
        mk.depth = 2
        mk.closure(lam)
        mk.emit(f"return {mk.last_def}")
        factory = _build(unit, mk, "_mk", ", ".join(tmpl.free), "_mk", tmpl.name)
        if key is not None:
            env.factories[key] = factory
    tmpl._v_factory = factory
    return factory
