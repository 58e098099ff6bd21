"""The macro-defining special forms: `define-syntax` (top level and in bodies),
`let-syntax`, `letrec-syntax`, and R7RS `syntax-error`; the transformers and
their hygiene are in `syntax_rules.py`."""
from __future__ import annotations

from typing import Any

from . import ast as A
from .analyze import Analyzer, Scope, items, special
from .errors import LispSyntaxError
from .printer import write
from .syntax_rules import MAX_SHOWN, SYNTAX_RULES, SyntaxRules, readable, strip
from .types import Pair, Symbol


def transformer(an: Analyzer, spec: Any, name: Symbol, scope: Scope | None, form: Pair) -> SyntaxRules:
    """The transformer `spec` denotes; a syntax error at `form` if it is malformed."""
    if not (type(spec) is Pair and type(spec.car) is Symbol
            and an.resolve(spec.car, scope) == (None, SYNTAX_RULES)):
        raise an.error(f"{name.name}: a macro is defined by (syntax-rules ...)", form)
    try:
        return SyntaxRules(strip(name).name, spec, scope)
    except LispSyntaxError as e:
        if e.loc is None:
            e.loc = form.loc
        raise


@special("define-syntax")
def _define_syntax(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(define-syntax name (syntax-rules (literal...) (pattern template)...))"""
    if scope is not None or an.lambdas:
        raise an.error("define-syntax: only allowed at top level or at the start of a body", x)
    parts = items(x.cdr, "define-syntax", x.loc)
    if len(parts) != 2 or type(parts[0]) is not Symbol:
        raise an.error("define-syntax: expected (define-syntax name (syntax-rules ...))", x)
    name = strip(parts[0])
    tr = transformer(an, parts[1], name, None, x)
    an.pending[name] = tr       # the forms after it in a top-level begin already use it
    return A.DefineGlobal(name, A.Const(tr), readable(x) if an.aliases else x, "defmacro", None, x.loc)


def _let_syntax(an: Analyzer, x: Pair, scope: Scope | None, rec: bool) -> A.Node:
    what = "letrec-syntax" if rec else "let-syntax"
    parts = items(x.cdr, what, x.loc)
    if len(parts) < 2:
        raise an.error(f"{what}: expected (({what[:-7]}name (syntax-rules ...))...) body...)", x)
    inner = Scope(scope)
    for b in items(parts[0], f"{what} bindings", x.loc):
        bp = items(b, f"{what} binding", x.loc) if type(b) is Pair else []
        if len(bp) != 2 or type(bp[0]) is not Symbol:
            raise an.error(f"{what}: each binding is (name (syntax-rules ...))", x)
        inner.vars[bp[0]] = transformer(an, bp[1], bp[0], inner if rec else scope, x)
    return an.body(parts[1:], inner, x)


@special("let-syntax")
def _let_syntax_form(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(let-syntax ((name (syntax-rules ...))...) body...)"""
    return _let_syntax(an, x, scope, False)


@special("letrec-syntax")
def _letrec_syntax_form(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(letrec-syntax ((name (syntax-rules ...))...) body...)"""
    return _let_syntax(an, x, scope, True)


@special("syntax-rules")
def _syntax_rules_alone(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(syntax-rules ...) is only a macro's transformer"""
    raise an.error("syntax-rules: only inside define-syntax, let-syntax or letrec-syntax", x)


@special("syntax-error")
def _syntax_error(an: Analyzer, x: Pair, scope: Scope | None) -> A.Node:
    """(syntax-error "message" form...): a syntax error where a macro expanded to it"""
    parts = items(x.cdr, "syntax-error", x.loc)
    if not parts or type(parts[0]) is not str:
        raise an.error("syntax-error: expected (syntax-error \"message\" form...)", x)
    shown = " ".join(write(readable(p), MAX_SHOWN) for p in parts[1:])
    raise an.error(parts[0] + (": " + shown if shown else ""), x)


def define_in_body(an: Analyzer, f: Pair, scope: Scope) -> None:
    """An internal `(define-syntax name spec)`: bind the macro in the body's scope."""
    parts = items(f.cdr, "define-syntax", f.loc)
    if len(parts) != 2 or type(parts[0]) is not Symbol:
        raise an.error("define-syntax: expected (define-syntax name (syntax-rules ...))", f)
    scope.vars[parts[0]] = transformer(an, parts[1], parts[0], scope, f)
