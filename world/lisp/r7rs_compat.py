"""R7RS compatibility forms: define-record-type, import, define-library, and the
environment specifiers `eval` accepts.

The world has no library system (its names are global, every sandbox's standard
bindings are already there), so `import` of a library the world provides is a
no-op and one it leaves out by design is refused with the reason. An environment
specifier is a small record meaning "this world's globals": `eval` with one runs
exactly as `eval` without one, in the same sandbox and budget, so a specifier
never grants anything the caller did not have.
"""
from __future__ import annotations

from typing import Any

from . import ast as A
from .analyze import LAMBDA, QUOTE, Analyzer, NamedLambda, S, Scope, items, special
from .errors import EvalError, LispTypeError
from .primitives import primitive
from .types import VOID, Pair, Record, RecordType, Symbol, make_list

# Libraries the world leaves out on purpose, with why (one line each).
ABSENT = {
    "file": "files are absent by design: a world keeps its data in its image (define it)",
    "process-context": "the process context is absent by design: a world's programs see no "
                       "command line, environment variables or exit",
    "time": "the clock is absent by design: a world's programs are deterministic",
    "load": "load is absent by design: a world has no files to load; paste or define the code",
    "complex": "complex numbers are absent by design: the world's numbers are real",
}
EXTRA = frozenset(("eval", "repl", "cxr"))     # eval/repl: where the sandbox grants eval


def _provided() -> frozenset[str]:
    from .control import LIBRARIES      # the same list cond-expand's (library ...) answers from
    return LIBRARIES | EXTRA


def library_problem(spec: Any) -> str | None:
    """None if `spec` names a library the world provides, else a one-line reason."""
    parts: list[Any] = []
    p = spec
    while type(p) is Pair and len(parts) < 8:
        parts.append(p.car)
        p = p.cdr
    if p is not None or not parts or not all(type(s) in (Symbol, int) for s in parts):
        return f"expected a library name such as (scheme base), got {_show(spec)}"
    if len(parts) == 2 and parts[0] is S("scheme") and type(parts[1]) is Symbol:
        name = parts[1].name
        if name in _provided():
            return None
        if name in ABSENT:
            return f"(scheme {name}): {ABSENT[name]}"
    return (f"unknown library {_show(spec)}; the world provides "
            + " ".join(f"(scheme {n})" for n in sorted(_provided())))


def _show(x: Any) -> str:
    from .primitives.check import show
    return show(x, 60)


# ---------------------------------------------------------------- import, define-library

@special("import")
def _import(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(import (scheme base) ...): a no-op for the libraries the world provides (all bound)"""
    if scope is not None or an.lambdas:
        raise an.error("import: only allowed at top level", x)
    for spec in items(x.cdr, "import", x.loc):
        if type(spec) is Pair and type(spec.car) is Symbol and spec.car.name in (
                "only", "except", "prefix", "rename"):
            raise an.error(f"import: ({spec.car.name} ...) is not supported: the world's names are "
                           "global; write (import (scheme base))", x)
        problem = library_problem(spec)
        if problem is not None:
            raise an.error(f"import: {problem}", x)
    return A.Const(VOID, x.loc)


@special("define-library")
def _define_library(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(define-library ...) is refused: the world has no library system"""
    raise an.error("define-library: the world has no library system (its names are global); "
                   "write the library's definitions at top level instead", x)


# ---------------------------------------------------------------- define-record-type

def _name(an: Analyzer, v: Any, x: Pair, what: str) -> Symbol:
    from .syntax_rules import strip     # names a macro's template wrote are the plain names
    if type(v) is not Symbol:
        raise an.error(f"define-record-type: {what} must be a name, got {_show(v)}", x)
    return strip(v)


@special("define-record-type")
def _define_record_type(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(define-record-type <name> (ctor field...) pred? (field accessor [modifier])...)"""
    from .forms import _internal
    usage = "expected (define-record-type <name> (constructor field...) predicate (field accessor [modifier])...)"
    parts = items(x.cdr, "define-record-type", x.loc)
    if scope is not None or an.lambdas:
        raise an.error("define-record-type: only allowed at top level", x)
    if len(parts) < 3:
        raise an.error(f"define-record-type: {usage}", x)
    tname = _name(an, parts[0], x, "the type name")
    specs = []
    fields: list[str] = []
    known: set[str] = set()
    for p in parts[3:]:
        an.tick(4)              # a form a program made may have any number of fields
        spec = items(p, "define-record-type", x.loc) if type(p) is Pair else []
        if len(spec) not in (2, 3):
            raise an.error("define-record-type: a field is (field accessor) or (field accessor modifier)", x)
        spec = [_name(an, s, x, "a field, accessor or modifier") for s in spec]
        if spec[0].name in known:
            raise an.error(f"define-record-type: field {spec[0].name} appears twice", x)
        known.add(spec[0].name)
        fields.append(spec[0].name)
        specs.append(spec)
    rt = RecordType(tname.name, tuple(fields))
    q = make_list([QUOTE, rt])
    defs: list[tuple[Symbol, Any]] = [(tname, q)]
    ctor = parts[1]
    if ctor is not False and ctor is not None:      # R7RS allows #f: no constructor
        cparts = items(ctor, "define-record-type", x.loc) if type(ctor) is Pair else [ctor]
        cname = _name(an, cparts[0], x, "the constructor")
        cargs = [_name(an, a, x, "a constructor field") for a in cparts[1:]]
        for a in cargs:
            if a.name not in known:
                raise an.error(f"define-record-type: constructor field {a.name} is not a field", x)
        if len({a.name for a in cargs}) != len(cargs):
            raise an.error("define-record-type: a constructor field appears twice", x)
        given = {a.name: a for a in cargs}
        # a field the constructor does not take starts as #f (R7RS leaves it unspecified)
        defs.append((cname, make_list([LAMBDA, make_list(cargs), make_list(
            [_internal("%record-make"), q, *[given.get(f, False) for f in fields]])])))
    if parts[2] is not False:
        defs.append((_name(an, parts[2], x, "the predicate"), make_list(
            [LAMBDA, make_list([S("x")]), make_list([_internal("%record?"), q, S("x")])])))
    for i, spec in enumerate(specs):
        defs.append((spec[1], make_list([LAMBDA, make_list([S("r")]),
                                         make_list([_internal("%record-ref"), q, S("r"), i])])))
        if len(spec) == 3:
            defs.append((spec[2], make_list([LAMBDA, make_list([S("r"), S("v")]), make_list(
                [_internal("%record-set!"), q, S("r"), i, S("v")])])))
    seen: set[str] = set()
    for sym, _ in defs:
        if sym.name in seen:
            raise an.error(f"define-record-type: {sym.name} is defined twice", x)
        seen.add(sym.name)
    # an older type of the same name: its instances follow the new fields (as define-record's do)
    migrate = an.analyze(make_list([_internal("%record-migrate"), q, *[False] * len(fields)]), None)
    nodes: list[A.Node] = [migrate]
    for sym, value in defs:
        if type(value) is Pair and value.car is LAMBDA:
            value.loc = x.loc
            node = an.analyze_value(NamedLambda(sym, value), None)
        else:
            node = an.analyze(value, None)
        nodes.append(A.DefineGlobal(sym, node, x, "define-record-type", None, x.loc))
    return A.Seq(nodes + [A.Const(tname)], x.loc)


# ---------------------------------------------------------------- environment specifiers

ENV_TYPE = RecordType("environment", ("name",))


def _spec(name: str) -> Record:
    return Record(ENV_TYPE, [S(name)])


def is_environment(x: Any) -> bool:
    """Is `x` an environment specifier (what `environment` and friends return)?"""
    return type(x) is Record and x.rtype == ENV_TYPE


def check_environment(who: str, env: Any) -> None:
    """Refuse anything `eval`'s second argument cannot be."""
    if not is_environment(env):
        raise LispTypeError(f"{who}: expected an environment such as (interaction-environment), "
                            f"got {_show(env)}")


@primitive("environment")
def environment(*specs: Any) -> Any:
    """(environment '(scheme base) ...) -> a specifier for eval: the world's standard bindings."""
    for s in specs:
        problem = library_problem(s)
        if problem is not None:
            raise EvalError(f"environment: {problem}")
    return _spec("standard")


@primitive("scheme-report-environment")
def scheme_report_environment(version: Any) -> Any:
    """(scheme-report-environment 5) -> a specifier for eval: the world's standard bindings."""
    if version != 5 or type(version) is not int:
        raise LispTypeError(f"scheme-report-environment: expected 5, got {_show(version)}")
    return _spec("standard")


@primitive("null-environment")
def null_environment(version: Any) -> Any:
    """(null-environment 5) -> a specifier for eval; the world's special forms are always there."""
    if version != 5 or type(version) is not int:
        raise LispTypeError(f"null-environment: expected 5, got {_show(version)}")
    return _spec("standard")


@primitive("interaction-environment")
def interaction_environment() -> Any:
    """(interaction-environment) -> a specifier for eval: this world's globals."""
    return _spec("interaction")
