"""The special forms, each one small function registered under its name
with its shape in its docstring."""
from __future__ import annotations

from typing import Any

from . import ast as A
from .analyze import (ARROW, BEGIN, ELSE, LAMBDA, QUASI, QUOTE, SPECIAL, SPLICE, UNQUOTE,
                      Analyzer, NamedLambda, S, Scope, items, loc_of, special)
from .types import LispMap, Pair, RecordType, Symbol, VOID, make_list


# ---------------------------------------------------------------- special forms

@special("quote")
def _quote(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(quote datum)"""
    parts = items(x.cdr, "quote", x.loc)
    if len(parts) != 1:
        raise an.error("quote: expected exactly one datum", x)
    return A.Const(parts[0], x.loc)


@special("if")
def _if(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(if test then else?)"""
    parts = items(x.cdr, "if", x.loc)
    if len(parts) not in (2, 3):
        raise an.error("if: expected (if test then else?)", x)
    else_ = an.analyze(parts[2], scope) if len(parts) == 3 else A.Const(VOID)
    return A.If(an.analyze(parts[0], scope), an.analyze(parts[1], scope), else_, x.loc)


@special("define")
def _define(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(define name expr) | (define (name . params) "doc"? body...)"""
    if scope is not None or an.lambdas:
        raise an.error("define: only allowed at top level or at the start of a body", x)
    name, value = an.define_parts(x)
    node = an.analyze_value(value, scope)
    doc = node.doc if type(node) is A.Lambda else None
    from .syntax_rules import readable, strip   # a name a macro introduced defines the plain name
    return A.DefineGlobal(strip(name), node, readable(x) if an.aliases else x, "define", doc, x.loc)


@special("set!")
def _set(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(set! name expr)"""
    parts = items(x.cdr, "set!", x.loc)
    if len(parts) != 2 or type(parts[0]) is not Symbol:
        raise an.error("set!: expected (set! name expr)", x)
    sym = parts[0]
    value = an.analyze(parts[1], scope)
    var, sym = an.resolve(sym, scope)
    if var is not None and type(var) is not A.Var:
        raise an.error(f"set!: {sym.name} is a macro, not a variable", x)
    if var is None and an.macro(sym) is not None:
        raise an.error(f"set!: {sym.name} is a macro, not a variable", x)
    if var is None:
        return A.SetGlobal(sym, value, x.loc)
    var.assigned = True
    an.capture(var)
    return A.SetLocal(var, value, x.loc)


@special("lambda")
def _lambda(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(lambda params "doc"? body...)"""
    return an.lambda_(x, scope, "lambda")


@special("begin")
def _begin(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(begin expr...)"""
    forms = items(x.cdr, "begin", x.loc)
    if not forms:
        return A.Const(VOID, x.loc)
    return A.Seq([an.analyze(f, scope) for f in forms], x.loc)


@special("and")
def _and(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(and expr...)"""
    parts = [an.analyze(p, scope) for p in items(x.cdr, "and", x.loc)]
    return A.Const(True) if not parts else parts[0] if len(parts) == 1 else A.And(parts, x.loc)


@special("or")
def _or(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(or expr...)"""
    parts = [an.analyze(p, scope) for p in items(x.cdr, "or", x.loc)]
    return A.Const(False) if not parts else parts[0] if len(parts) == 1 else A.Or(parts, x.loc)


@special("when")
def _when(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(when test body...)"""
    parts = items(x.cdr, "when", x.loc)
    if len(parts) < 2:
        raise an.error("when: expected a test and a body", x)
    return A.If(an.analyze(parts[0], scope), an.seq(parts[1:], scope), A.Const(VOID), x.loc)


@special("unless")
def _unless(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(unless test body...)"""
    parts = items(x.cdr, "unless", x.loc)
    if len(parts) < 2:
        raise an.error("unless: expected a test and a body", x)
    return A.If(an.analyze(parts[0], scope), A.Const(VOID), an.seq(parts[1:], scope), x.loc)


@special("cond")
def _cond(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(cond (test body...) (test => proc) ... (else body...))"""
    clauses = items(x.cdr, "cond", x.loc)
    return _cond_clauses(an, clauses, scope, x, A.Const(VOID))


def _cond_clauses(an: Analyzer, clauses: list[Any], scope: Scope | None, x: Pair,
                  fallback: A.Node) -> A.Node:
    if not clauses:
        return fallback
    clause = clauses[0]
    parts = items(clause, "cond clause", x.loc)
    if type(clause) is not Pair or not parts:
        raise an.error("cond: each clause must be a non-empty list", x)
    rest = clauses[1:]
    test = parts[0]
    if test is ELSE and (scope is None or scope.lookup(ELSE) is None):
        if len(parts) < 2:
            raise an.error("cond: else needs an expression", clause)
        if rest:
            raise an.error("cond: else must be the last clause", clause)
        return an.seq(parts[1:], scope)
    if len(parts) == 1:
        return A.Or([an.analyze(test, scope), _cond_clauses(an, rest, scope, x, fallback)], loc_of(clause))
    if parts[1] is ARROW and (scope is None or scope.lookup(ARROW) is None):
        if len(parts) != 3:
            raise an.error("cond: expected (test => proc)", clause)
        inner = Scope(scope)
        tmp = an.fresh(S(" cond-value"), inner)
        call = A.Call(an.analyze(parts[2], scope), [A.LocalRef(tmp)], loc_of(clause))
        return A.Let([tmp], [an.analyze(test, scope)],
                     A.If(A.LocalRef(tmp), call, _cond_clauses(an, rest, scope, x, fallback)),
                     False, loc_of(clause))
    return A.If(an.analyze(test, scope), an.seq(parts[1:], scope),
                _cond_clauses(an, rest, scope, x, fallback), loc_of(clause))


@special("case")
def _case(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(case key ((datum...) body...) ... (else body...))"""
    parts = items(x.cdr, "case", x.loc)
    if not parts:
        raise an.error("case: expected a key", x)
    inner = Scope(scope)
    key_node = an.analyze(parts[0], scope)
    tmp = an.fresh(S(" case-key"), inner)
    node: A.Node = A.Const(VOID)
    for clause in reversed(parts[1:]):
        cp = items(clause, "case clause", x.loc)
        if type(clause) is not Pair or len(cp) < 2:
            raise an.error("case: each clause is ((datum...) body...)", x)
        if cp[1] is ARROW:          # (datums => proc): proc receives the key
            if len(cp) != 3:
                raise an.error("case: expected ((datum...) => proc)", clause)
            then = A.Call(an.analyze(cp[2], inner), [A.LocalRef(tmp)], loc_of(clause))
        else:
            then = an.seq(cp[1:], inner)
        if cp[0] is ELSE:
            node = then
            continue
        from .syntax_rules import strip     # a macro's template datums are plain symbols
        datums = [strip(d) if type(d) is Symbol else d for d in items(cp[0], "case datums", x.loc)]
        test = A.Or([an.primcall("eqv?", [A.LocalRef(tmp), A.Const(d)]) for d in datums]
                    or [A.Const(False)], loc_of(clause))
        node = A.If(test, then, node, loc_of(clause))
    return A.Let([tmp], [key_node], node, False, x.loc)


def _bindings(an: Analyzer, form: Any, x: Pair) -> list[tuple[Symbol, Any]]:
    out = []
    for b in items(form, "let bindings", x.loc):
        bp = items(b, "let binding", x.loc) if type(b) is Pair else None
        if not bp or type(bp[0]) is not Symbol or len(bp) != 2:     # R7RS: an init is required
            raise an.error("let: each binding is (name expr)", b if type(b) is Pair else x)
        out.append((bp[0], bp[1]))
    return out


@special("let")
def _let(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(let ((name expr)...) body...) | (let loop ((name expr)...) body...)"""
    parts = items(x.cdr, "let", x.loc)
    if len(parts) < 2:
        raise an.error("let: expected bindings and a body", x)
    if type(parts[0]) is Symbol:
        return _named_let(an, x, parts, scope)
    binds = _bindings(an, parts[0], x)
    names = [n for n, _ in binds]
    if len(set(names)) != len(names):
        raise an.error("let: a name is bound twice", x)
    inits = [an.analyze_value(NamedLambda(n, v) if type(v) is Pair and v.car is LAMBDA else v, scope)
             for n, v in binds]
    for init in inits:
        if type(init) is A.Lambda:
            init.self_sym = None
    inner = Scope(scope)
    vars_ = [an.fresh(n, inner) for n in names]
    return A.Let(vars_, inits, an.body(parts[1:], inner, x), False, x.loc)


def _named_let(an: Analyzer, x: Pair, parts: list[Any], scope: Scope | None) -> A.Node:
    name = parts[0]
    if len(parts) < 3:
        raise an.error("let: named let needs bindings and a body", x)
    binds = _bindings(an, parts[1], x)
    inits = [an.analyze(v, scope) for _, v in binds]
    inner = Scope(scope)
    loop = an.fresh(name, inner)
    params = make_list([n for n, _ in binds])
    lam = an.lambda_(Pair(LAMBDA, Pair(params, x.cdr.cdr.cdr), x.loc), inner, name.name)
    return A.Let([loop], [lam], A.Call(A.LocalRef(loop), inits, x.loc), True, x.loc)


@special("let*")
def _let_star(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(let* ((name expr)...) body...)"""
    parts = items(x.cdr, "let*", x.loc)
    if len(parts) < 2:
        raise an.error("let*: expected bindings and a body", x)
    binds = _bindings(an, parts[0], x)
    if not binds:
        return an.body(parts[1:], Scope(scope), x)
    inner: Scope | None = scope
    vars_, inits = [], []
    for n, v in binds:
        inits.append(an.analyze(v, inner))
        inner = Scope(inner)
        vars_.append(an.fresh(n, inner))
    body = an.body(parts[1:], inner, x)
    for var, init in zip(reversed(vars_), reversed(inits)):
        body = A.Let([var], [init], body, False, x.loc)
    return body


@special("letrec")
def _letrec(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(letrec ((name expr)...) body...)"""
    parts = items(x.cdr, "letrec", x.loc)
    if len(parts) < 2:
        raise an.error("letrec: expected bindings and a body", x)
    binds = _bindings(an, parts[0], x)
    inner = Scope(scope)
    vars_ = [an.fresh(n, inner) for n, _ in binds]
    inits = []
    for n, v in binds:
        init = an.analyze_value(NamedLambda(n, v) if type(v) is Pair and v.car is LAMBDA else v, inner)
        if type(init) is A.Lambda:
            init.self_sym = None
        inits.append(init)
    return A.Let(vars_, inits, an.body(parts[1:], inner, x), True, x.loc)


SPECIAL[S("letrec*")] = _letrec


@special("do")
def _do(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(do ((var init step?)...) (test result...) body...)"""
    parts = items(x.cdr, "do", x.loc)
    if len(parts) < 2:
        raise an.error("do: expected bindings and (test result...)", x)
    specs = []
    for b in items(parts[0], "do bindings", x.loc):
        bp = items(b, "do binding", x.loc)
        if not 2 <= len(bp) <= 3 or type(bp[0]) is not Symbol:
            raise an.error("do: each binding is (var init step?)", x)
        specs.append((bp[0], bp[1], bp[2] if len(bp) == 3 else bp[0]))
    test = items(parts[1], "do test", x.loc)
    if not test:
        raise an.error("do: expected (test result...)", x)
    loop = S(f" do-loop-{an.counter[0]}")
    result = Pair(BEGIN, make_list(test[1:])) if len(test) > 1 else VOID
    again = Pair(loop, make_list([s for _, _, s in specs]), x.loc)
    body = Pair(S("if"), make_list([test[0], result, Pair(BEGIN, make_list(parts[2:] + [again]))]), x.loc)
    named = make_list([S("let"), loop, make_list([make_list([n, i]) for n, i, _ in specs]), body])
    named.loc = x.loc
    return _let(an, named, scope)


@special("defmacro")
def _defmacro(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(defmacro name (params) "doc"? body...)"""
    parts = items(x.cdr, "defmacro", x.loc)
    if scope is not None or an.lambdas:
        raise an.error("defmacro: only allowed at top level", x)
    if len(parts) < 3 or type(parts[0]) is not Symbol:
        raise an.error("defmacro: expected (defmacro name (params) body...)", x)
    lam = an.lambda_(Pair(LAMBDA, x.cdr.cdr, x.loc), None, parts[0].name)
    return A.DefineGlobal(parts[0], lam, x, "defmacro", lam.doc, x.loc)


@special("guard")
def _guard(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(guard (var clause...) body...): clauses as in cond; no match re-raises."""
    parts = items(x.cdr, "guard", x.loc)
    if len(parts) < 2 or type(parts[0]) is not Pair or type(parts[0].car) is not Symbol:
        raise an.error("guard: expected (guard (var clause...) body...)", x)
    body = an.seq(parts[1:], scope)
    inner = Scope(scope)
    var = an.fresh(parts[0].car, inner)
    clauses = items(parts[0].cdr, "guard clauses", x.loc)
    handler = _cond_clauses(an, clauses, inner, x, A.Reraise(x.loc))
    return A.Guard(var, body, handler, x.loc)


@special("quasiquote")
def _quasiquote(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(quasiquote template) with unquote and unquote-splicing"""
    parts = items(x.cdr, "quasiquote", x.loc)
    if len(parts) != 1:
        raise an.error("quasiquote: expected exactly one template", x)
    return _qq(an, parts[0], 1, scope)


def _has_unquote(x: Any, an: Analyzer) -> bool:
    stack = [x]
    seen = 0
    while stack:
        seen += 1
        if seen > 1024:         # a template a program made may share structure: charge per visit
            an.tick(seen)
            seen = 0
        x = stack.pop()
        if type(x) is Pair:
            if x.car is UNQUOTE or x.car is SPLICE:
                return True
            stack += [x.car, x.cdr]
        elif type(x) is tuple:
            stack += list(x)
        elif type(x) is LispMap:
            for k, v in x.items():
                stack += [k, v]
    return False


def _qq(an: Analyzer, x: Any, depth: int, scope: Scope | None) -> A.Node:
    if not _has_unquote(x, an):
        return A.Const(x)
    if type(x) is tuple:
        return an.primcall("list->vector", [_qq(an, make_list(x), depth, scope)])
    if type(x) is LispMap:
        args = []
        for k, v in x.items():
            args += [_qq(an, k, depth, scope), _qq(an, v, depth, scope)]
        return an.primcall("hash-map", args)
    head = x.car
    if head is UNQUOTE or head is QUASI:
        arg = items(x.cdr, head.name, x.loc)
        if len(arg) != 1:
            raise an.error(f"{head.name}: expected exactly one form", x)
        if head is UNQUOTE and depth == 1:
            return an.analyze(arg[0], scope)
        inner = _qq(an, arg[0], depth - 1 if head is UNQUOTE else depth + 1, scope)
        return an.primcall("list", [A.Const(head), inner])
    if type(head) is Pair and head.car is SPLICE and depth == 1:
        arg = items(head.cdr, "unquote-splicing", x.loc)
        if len(arg) != 1:
            raise an.error("unquote-splicing: expected exactly one form", head)
        return an.primcall("append", [an.analyze(arg[0], scope), _qq(an, x.cdr, depth, scope)])
    if head is SPLICE:
        raise an.error("unquote-splicing: not inside a list", x)
    return an.primcall("cons", [_qq(an, head, depth, scope), _qq(an, x.cdr, depth, scope)])


@special("unquote")
def _unquote(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(unquote x) is only meaningful inside quasiquote"""
    raise an.error("unquote: not inside quasiquote", x)


SPECIAL[SPLICE] = _unquote


def _internal(name: str) -> Pair:
    """`(quote PRIMITIVE)`: generated code calls an internal primitive no program can name."""
    from .primitives import load
    from . import records  # noqa: F401  (registers %record-migrate)
    return make_list([QUOTE, load()[name]])


@special("define-record")
def _define_record(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(define-record name field...), a field `name` or `(name default)`: make-NAME, NAME?,
    NAME-FIELD, set-NAME-FIELD!; instances of an older NAME get the new fields' defaults"""
    parts = items(x.cdr, "define-record", x.loc)
    if scope is not None or an.lambdas:
        raise an.error("define-record: only allowed at top level", x)
    if not parts or type(parts[0]) is not Symbol:
        raise an.error("define-record: expected (define-record name field...)", x)
    from .syntax_rules import strip     # names a macro's template wrote are the plain names
    name, fields, defaults = strip(parts[0]).name, [], []
    for p in parts[1:]:
        spec = items(p, "define-record", x.loc) if type(p) is Pair else [p]
        if type(spec[0]) is not Symbol or len(spec) > 2 or (type(p) is Pair and len(spec) != 2):
            raise an.error("define-record: a field is a name or (name default)", x)
        spec[0] = strip(spec[0])
        if spec[0].name in fields:
            raise an.error(f"define-record: field {spec[0].name} appears twice", x)
        fields.append(spec[0].name)
        defaults.append(spec[1] if len(spec) == 2 else False)
    rt = RecordType(name, tuple(fields))
    q = make_list([QUOTE, rt])
    migrate = an.analyze(make_list([_internal("%record-migrate"), q, *defaults]), None)
    defs: list[tuple[str, Any]] = [
        (name, q),
        (f"make-{name}", make_list([LAMBDA, make_list([S(f) for f in fields]),
                                    make_list([_internal("%record-make"), q, *[S(f) for f in fields]])])),
        (f"{name}?", make_list([LAMBDA, make_list([S("x")]),
                                make_list([_internal("%record?"), q, S("x")])])),
    ]
    for i, f in enumerate(fields):
        defs.append((f"{name}-{f}", make_list([LAMBDA, make_list([S("r")]),
                                               make_list([_internal("%record-ref"), q, S("r"), i])])))
        defs.append((f"set-{name}-{f}!", make_list([LAMBDA, make_list([S("r"), S("v")]),
                                                    make_list([_internal("%record-set!"), q, S("r"), i, S("v")])])))
    nodes = []
    for dname, value in defs:
        if type(value) is Pair and value.car is LAMBDA:
            value.loc = x.loc
            node = an.analyze_value(NamedLambda(S(dname), value), None)
        else:
            node = an.analyze(value, None)
        nodes.append(A.DefineGlobal(S(dname), node, x, "define-record", None, x.loc))
    return A.Seq([migrate] + nodes + [A.Const(S(name))], x.loc)
