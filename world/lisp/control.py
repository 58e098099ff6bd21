"""R7RS special forms for control: multiple values (let-values, let*-values,
define-values), case-lambda, parameterize, delay, delay-force, cond-expand.

Each is one small function registered with `@special`, its shape in its
docstring. They expand into core forms and calls of internal primitives
(`primitives/control.py`), so they are compiled, metered and persisted like
the rest. Names the expansion binds contain a space: no program can type
them, so they never capture a user's variable.
"""
from __future__ import annotations

from typing import Any

from . import ast as A
from .analyze import COMPILE_STEPS, ELSE, LAMBDA, QUOTE, Analyzer, S, Scope, items, special
from .types import Pair, Symbol, VOID, make_list

LET, DEFINE, BEGIN_ = S("let"), S("define"), S("begin")


def _internal(name: str) -> Pair:
    """`(quote PRIMITIVE)`: generated code calls an internal primitive no program can name."""
    from .primitives import load
    return make_list([QUOTE, load()[name]])


def _at(form: Any, loc: Any) -> Any:
    """`form`, located at `loc` (so errors inside it point at the source)."""
    if type(form) is Pair and form.loc is None:
        form.loc = loc
    return form


def _formals(an: Analyzer, formals: Any, who: str, x: Pair) -> tuple[list[Symbol], Symbol | None]:
    """The fixed names and the rest name of `(a b . rest)`, `args` or `()`."""
    fixed: list[Symbol] = []
    f = formals
    while type(f) is Pair:
        if type(f.car) is not Symbol:
            raise an.error(f"{who}: formals must be symbols, as in ((a b . rest) expr)", x)
        fixed.append(f.car)
        f = f.cdr
    if f is not None and type(f) is not Symbol:
        raise an.error(f"{who}: formals must be symbols, as in ((a b . rest) expr)", x)
    names = fixed + ([f] if f is not None else [])
    if len(set(names)) != len(names):
        raise an.error(f"{who}: a name is bound twice", x)
    return fixed, f


def _receive(an: Analyzer, formals: Any, expr: Any, who: str, x: Pair) -> tuple[list[Symbol], Any]:
    """The names `formals` binds and a form whose value is the vector of their values."""
    fixed, rest = _formals(an, formals, who, x)
    vals = make_list([_internal("%values-list"), expr, len(fixed), rest is not None, who])
    return fixed + ([rest] if rest is not None else []), _at(vals, x.loc)


def _mv_bindings(an: Analyzer, form: Any, who: str, x: Pair) -> list[tuple[Any, Any]]:
    out = []
    for b in items(form, f"{who} bindings", x.loc):
        bp = items(b, f"{who} binding", x.loc) if type(b) is Pair else None
        if not bp or len(bp) != 2:
            raise an.error(f"{who}: each binding is (formals expr)", b if type(b) is Pair else x)
        out.append((bp[0], bp[1]))
    return out


def _ref_bindings(names: list[Symbol], vec: Symbol) -> list[Any]:
    """`((name (%values-ref vec i)) ...)`."""
    ref = _internal("%values-ref")
    return [make_list([n, make_list([ref, vec, i])]) for i, n in enumerate(names)]


@special("let-values")
def _let_values(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(let-values (((formals) expr) ...) body...)"""
    parts = items(x.cdr, "let-values", x.loc)
    if len(parts) < 2:
        raise an.error("let-values: expected bindings and a body", x)
    binds = _mv_bindings(an, parts[0], "let-values", x)
    outer, inner_binds, seen = [], [], set()
    for i, (formals, expr) in enumerate(binds):
        names, vals = _receive(an, formals, expr, "let-values", x)
        if seen & set(names):
            raise an.error("let-values: a name is bound twice", x)
        seen |= set(names)
        tmp = S(f" values-{i}")
        outer.append(make_list([tmp, vals]))
        inner_binds += _ref_bindings(names, tmp)
    body = Pair(LET, Pair(make_list(inner_binds), x.cdr.cdr), x.loc)
    return an.analyze(_at(make_list([LET, make_list(outer), body]), x.loc), scope)


@special("let*-values")
def _let_star_values(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(let*-values (((formals) expr) ...) body...)"""
    parts = items(x.cdr, "let*-values", x.loc)
    if len(parts) < 2:
        raise an.error("let*-values: expected bindings and a body", x)
    binds = _mv_bindings(an, parts[0], "let*-values", x)
    form: Any = Pair(LET, Pair(None, x.cdr.cdr), x.loc)
    for formals, expr in reversed(binds):
        names, vals = _receive(an, formals, expr, "let*-values", x)
        tmp = S(" values")
        inner = make_list([LET, make_list(_ref_bindings(names, tmp)), form])
        form = _at(make_list([LET, make_list([make_list([tmp, vals])]), _at(inner, x.loc)]), x.loc)
    return an.analyze(form, scope)


@special("define-values")
def _define_values(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(define-values formals expr): each name a definition, all from this one form"""
    parts = items(x.cdr, "define-values", x.loc)
    if len(parts) != 2:
        raise an.error("define-values: expected (define-values formals expr)", x)
    if scope is not None or an.lambdas:
        raise an.error("define-values: only allowed at top level or at the start of a body", x)
    names, vals = _receive(an, parts[0], parts[1], "define-values", x)
    inner = Scope(None)
    tmp = an.fresh(S(" define-values"), inner)
    ref = an.prim("%values-ref")
    from .syntax_rules import strip     # a name a macro introduced defines the plain name
    defs: list[A.Node] = [
        A.DefineGlobal(strip(n), A.PrimCall("%values-ref", ref, [A.LocalRef(tmp), A.Const(i)], x.loc),
                       x, "define", None, x.loc)
        for i, n in enumerate(names)]
    return A.Let([tmp], [an.analyze(vals, None)], A.Seq(defs + [A.Const(VOID)], x.loc), False, x.loc)


def body_define_values(an: Analyzer, f: Pair) -> list[Any]:
    """`(define-values formals expr)` at the start of a body, as internal defines."""
    parts = items(f.cdr, "define-values", f.loc)
    if len(parts) != 2:
        raise an.error("define-values: expected (define-values formals expr)", f)
    names, vals = _receive(an, parts[0], parts[1], "define-values", f)
    an.counter[0] += 1
    tmp = S(f" define-values-{an.counter[0]}")
    ref = _internal("%values-ref")
    return [_at(make_list([DEFINE, tmp, vals]), f.loc)] + [
        _at(make_list([DEFINE, n, make_list([ref, tmp, i])]), f.loc) for i, n in enumerate(names)]


@special("case-lambda")
def _case_lambda(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(case-lambda (formals body...) ...)"""
    clauses = items(x.cdr, "case-lambda", x.loc)
    if not clauses:
        raise an.error("case-lambda: expected at least one clause (formals body...)", x)
    binds, arities, procs = [], [], []
    for i, c in enumerate(clauses):
        cp = items(c, "case-lambda clause", x.loc) if type(c) is Pair else None
        if not cp or len(cp) < 2:
            raise an.error("case-lambda: each clause is (formals body...)", c if type(c) is Pair else x)
        fixed, rest = _formals(an, cp[0], "case-lambda", c)
        arities.append(len(fixed) * 2 + (rest is not None))
        tmp = S(f" case-{i}")
        binds.append(make_list([tmp, Pair(LAMBDA, c, c.loc or x.loc)]))
        procs.append(tmp)
    args = S(" args")
    disp = Pair(LAMBDA, make_list([args, make_list([_internal("%case-lambda"), args,
                                                    make_list([QUOTE, tuple(arities)]), *procs])]),
                x.loc)
    return an.analyze(_at(make_list([LET, make_list(binds), disp]), x.loc), scope)


@special("parameterize")
def _parameterize(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(parameterize ((param value) ...) body...)"""
    parts = items(x.cdr, "parameterize", x.loc)
    if len(parts) < 2:
        raise an.error("parameterize: expected bindings and a body", x)
    args: list[Any] = []
    for b in items(parts[0], "parameterize bindings", x.loc):
        bp = items(b, "parameterize binding", x.loc) if type(b) is Pair else None
        if not bp or len(bp) != 2:
            raise an.error("parameterize: each binding is (param value)", b if type(b) is Pair else x)
        args += bp
    thunk = Pair(LAMBDA, Pair(None, x.cdr.cdr), x.loc)
    return an.analyze(_at(make_list([_internal("%parameterize"), thunk, *args]), x.loc), scope)


def _delay(an: Analyzer, x: Pair, scope: Scope | None, who: str, lazy: bool) -> A.Node:
    parts = items(x.cdr, who, x.loc)
    if len(parts) != 1:
        raise an.error(f"{who}: expected exactly one expression", x)
    thunk = Pair(LAMBDA, Pair(None, x.cdr), x.loc)
    return an.analyze(_at(make_list([_internal("%make-promise"), lazy, thunk]), x.loc), scope)


@special("delay")
def _delay_form(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(delay expr)"""
    return _delay(an, x, scope, "delay", False)


@special("delay-force")
def _delay_force(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(delay-force promise-expr)"""
    return _delay(an, x, scope, "delay-force", True)


# ---------------------------------------------------------------- cond-expand

FEATURES = ("r7rs", "exact-closed", "ratios", "full-unicode", "world")
# The R7RS libraries whose names every sandbox has (the world has no library system: its
# names are global); (scheme eval), files, the process context and the clock are not all there.
LIBRARIES = frozenset(("base", "case-lambda", "char", "lazy", "read", "write", "inexact"))


def _feature(an: Analyzer, req: Any, x: Pair) -> bool:
    """Does this implementation satisfy the feature requirement `req`?"""
    an.tick(COMPILE_STEPS)      # a requirement a program made may be any size
    if type(req) is Symbol:
        return req is ELSE or req.name in FEATURES
    parts = items(req, "cond-expand requirement", x.loc) if type(req) is Pair else None
    if not parts or type(parts[0]) is not Symbol:
        raise an.error("cond-expand: a requirement is a feature, (and ...), (or ...), "
                       "(not ...) or (library ...)", x)
    op, args = parts[0].name, parts[1:]
    if op == "and":
        return all(_feature(an, r, x) for r in args)
    if op == "or":
        return any(_feature(an, r, x) for r in args)
    if op == "not" and len(args) == 1:
        return not _feature(an, args[0], x)
    if op == "library" and len(args) == 1:
        lib = items(args[0], "cond-expand library name", x.loc) if type(args[0]) is Pair else []
        return (len(lib) == 2 and lib[0] is S("scheme") and type(lib[1]) is Symbol
                and lib[1].name in LIBRARIES)
    raise an.error(f"cond-expand: bad requirement ({op} ...)", x)


@special("cond-expand")
def _cond_expand(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(cond-expand (requirement body...) ... (else body...))"""
    for c in items(x.cdr, "cond-expand", x.loc):
        cp = items(c, "cond-expand clause", x.loc) if type(c) is Pair else None
        if not cp:
            raise an.error("cond-expand: each clause is (requirement body...)", x)
        if _feature(an, cp[0], c):
            return an.analyze(_at(Pair(BEGIN_, c.cdr, c.loc or x.loc), x.loc), scope)
    return A.Const(VOID, x.loc)


def features() -> Any:
    """The feature identifiers cond-expand knows, as a list of symbols."""
    return make_list([S(f) for f in FEATURES])
