"""Analysis: expand macros and turn Lisp forms into the compiler's AST.

Each special form is one small function registered under its name with
`@special`, its shape in its docstring. Variables are resolved here, so the
code generator knows which are local, which are captured by closures, and
which are both captured and assigned (those live in boxes).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from . import ast as A
from . import budget
from .errors import LispSyntaxError
from .printer import write
from .types import Keyword, LispMap, Pair, Primitive, Symbol, VOID

S = Symbol
COMPILE_STEPS = 50      # steps charged per node compiled (analysis, code generation, Python's compile)
SPECIAL: dict[Symbol, Callable[["Analyzer", Pair, "Scope | None"], A.Node]] = {}

QUOTE, QUASI, UNQUOTE, SPLICE = S("quote"), S("quasiquote"), S("unquote"), S("unquote-splicing")
DEFINE, BEGIN, LAMBDA, ELSE, ARROW, DOT3 = S("define"), S("begin"), S("lambda"), S("else"), S("=>"), S("...")
DEFINE_VALUES = S("define-values")


def special(name: str) -> Callable:
    """Register the decorated function as the special form `name`."""
    def register(fn: Callable) -> Callable:
        SPECIAL[S(name)] = fn
        return fn
    return register


@lru_cache(maxsize=1 << 16)     # every fresh environment mangles all its primitives' names
def mangle(name: str) -> str:
    """A Python identifier for a Lisp name; reversible, never a Python keyword."""
    return "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in name)


class Scope:
    """A lexical frame: symbols bound by one lambda, let or body."""

    __slots__ = ("vars", "parent")

    def __init__(self, parent: "Scope | None") -> None:
        self.vars: dict[Symbol, A.Var] = {}
        self.parent = parent

    def lookup(self, sym: Symbol) -> A.Var | None:
        s: Scope | None = self
        while s is not None:
            v = s.vars.get(sym)
            if v is not None:
                return v
            s = s.parent
        return None


def loc_of(x: Any, default: A.Loc = None) -> A.Loc:
    return x.loc if type(x) is Pair and x.loc is not None else default


def items(form: Any, what: str, loc: A.Loc = None) -> list[Any]:
    """Elements of a proper list, or a syntax error naming `what`."""
    out = []
    x = form
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    if x is not None:
        raise LispSyntaxError(f"{what}: improper list", loc_of(form, loc))
    return out


class Analyzer:
    """Turns one top-level form into an AST for one environment.

    A `metered` analyzer charges the running budget per node visited: code
    that a program made (`eval`'d forms, macro expansions, recompiled
    procedures) may be huge or share structure, so compiling it is work the
    program pays for and is refused early. Forms read from source text are
    bounded by their text, and compile without charge.
    """

    def __init__(self, env: Any, counter: list[int] | None = None, metered: bool = False) -> None:
        self.env = env
        self.counter = counter if counter is not None else [0]
        self.lambdas: list[A.Lambda] = []      # enclosing lambdas, innermost last
        self.loc: A.Loc = None
        self.metered = metered
        self.nodes = 0          # nodes visited and not yet charged
        self.aliases: dict[Symbol, tuple[Symbol, Scope | None]] = {}  # hygiene: see syntax_rules.py
        self.macro_depth = 0    # macro uses being analyzed inside expansions
        self.pending: dict[Symbol, Any] = {}    # top-level macros this form defines, before it runs

    def tick(self, steps: int) -> None:
        """Charge `steps` of compile work, if metered (cheap when not)."""
        if self.metered:
            budget.charge(steps)

    # ------------------------------------------------------------ helpers
    def fresh(self, sym: Symbol, scope: Scope) -> A.Var:
        """Bind `sym` in `scope` to a new variable owned by the current lambda."""
        self.counter[0] += 1
        owner = self.lambdas[-1] if self.lambdas else None
        var = A.Var(sym, f"l_{mangle(sym.name)}_{self.counter[0]}", owner)
        scope.vars[sym] = var
        if owner is not None:
            owner.locals.append(var)
        return var

    def error(self, message: str, form: Any = None) -> LispSyntaxError:
        return LispSyntaxError(message, loc_of(form, self.loc))

    def resolve(self, sym: Symbol, scope: Scope | None) -> tuple[Any, Symbol]:
        """What `sym` means in `scope`: (its local binding, a Var or a local macro, or None
        for a global; the name it has there). An alias a macro introduced and nothing in
        its expansion binds means what its parent meant where the macro was defined."""
        while True:
            v = scope.lookup(sym) if scope is not None else None
            if v is not None or not sym.name.startswith("#%"):
                return v, sym
            info = self.aliases.get(sym)
            if info is None:        # an alias of an earlier compilation: its parent, here
                parent = _syntax.alias_parent(sym)
                if parent is None:
                    return None, sym
                sym = parent
            else:
                sym, scope = info

    def ref(self, sym: Symbol, scope: Scope | None, loc: A.Loc) -> A.Node:
        var = scope.lookup(sym) if scope is not None else None
        if var is None and sym.name.startswith("#%"):
            var, sym = self.resolve(sym, scope)
        if var is None:
            if type(self.macro(sym)) is _syntax.SyntaxRules:
                raise LispSyntaxError(f"{sym.name} is syntax, not a variable", loc or self.loc)
            self.env.ensure(sym.name)
            return A.GlobalRef(sym, loc)
        if type(var) is not A.Var:
            raise LispSyntaxError(f"{sym.name} is a macro, not a variable", loc or self.loc)
        self.capture(var)
        return A.LocalRef(var, loc)

    def macro(self, sym: Symbol) -> Any:
        """The global macro `sym` names (one this form defines first), or None."""
        return self.pending.get(sym) or self.env.macros.get(sym)

    def expand_macro(self, macro: Any, x: Pair, scope: Scope | None) -> A.Node:
        """The AST of the expansion of the macro use `x`."""
        self.metered = True     # the expansion is made by a program: it may be any size
        if self.macro_depth >= _syntax.MAX_DEPTH:
            raise self.error(f"{write(_syntax.strip(x.car))}: macro uses nested more than {_syntax.MAX_DEPTH} "
                             f"deep in expansions (does it expand into itself forever?)", x)
        self.macro_depth += 1
        try:
            return self.analyze(_syntax.expand_once(self, macro, x, scope), scope)
        finally:
            self.macro_depth -= 1

    def capture(self, var: A.Var) -> None:
        """Note that the current lambda uses `var`; mark it captured if foreign."""
        for lam in reversed(self.lambdas):
            if lam is var.owner:
                return
            var.captured = True
            if var not in lam.free:
                lam.free.append(var)

    def prim(self, name: str) -> Primitive:
        return Primitive.registry[name]

    def primcall(self, name: str, args: list[A.Node], loc: A.Loc = None) -> A.Node:
        return A.PrimCall(name, self.prim(name), args, loc)

    # ------------------------------------------------------------ analysis
    def analyze(self, x: Any, scope: Scope | None) -> A.Node:
        """The AST of expression `x` in `scope` (None: the global scope)."""
        if self.metered:
            self.nodes += 1
            if self.nodes >= 32:
                budget.charge(self.nodes * COMPILE_STEPS)
                self.nodes = 0
        t = type(x)
        if t is Symbol:
            return self.ref(x, scope, None)
        if t is Pair:
            saved = self.loc
            if x.loc is not None:
                self.loc = x.loc
            try:
                return self.analyze_pair(x, scope)
            finally:
                self.loc = saved
        if t is tuple:
            if all(is_constant(e) for e in x):
                return A.Const(x)
            return self.primcall("vector", [self.analyze(e, scope) for e in x], self.loc)
        if t is LispMap:
            if all(is_constant(k) and is_constant(v) for k, v in x.items()):
                return A.Const(x)
            args = []
            for k, v in x.items():
                args += [self.analyze(k, scope), self.analyze(v, scope)]
            return self.primcall("hash-map", args, self.loc)
        return A.Const(x)

    def analyze_pair(self, x: Pair, scope: Scope | None) -> A.Node:
        head = x.car
        if type(head) is Symbol:
            local = scope.lookup(head) if scope is not None else None
            if local is None and head.name.startswith("#%"):
                local, head = self.resolve(head, scope)
            if local is None:
                form = SPECIAL.get(head)
                if form is not None:
                    return form(self, x, scope)
                macro = self.env.macros.get(head)
                if self.pending:
                    macro = self.pending.get(head, macro)
                if macro is not None:
                    return self.expand_macro(macro, x, scope)
                prim = self.env.inlinable(head)
                if prim is not None:
                    return A.PrimCall(head.name, prim, self.args(x, scope, head.name), x.loc)
            elif type(local) is not A.Var:     # a let-syntax macro
                return self.expand_macro(local, x, scope)
        fn = self.analyze(x.car, scope)
        return A.Call(fn, self.args(x, scope, "call"), x.loc)

    def args(self, x: Pair, scope: Scope | None, what: str) -> list[A.Node]:
        """The ASTs of a call's arguments; a global named by an argument gets its own location."""
        items(x.cdr, what, x.loc)       # a proper list, or a syntax error
        out = []
        cell = x.cdr
        while type(cell) is Pair:
            a = cell.car
            if self.metered:
                self.nodes += 1
            if type(a) is Symbol and (scope is None or scope.lookup(a) is None) \
                    and not a.name.startswith("#%") and a not in self.env.macros and a not in self.pending:
                self.env.ensure(a.name)
                out.append(A.GlobalRef(a, cell.loc))
            elif type(a) is Symbol:
                out.append(self.ref(a, scope, cell.loc))
            else:
                out.append(self.analyze(a, scope))
            cell = cell.cdr
        return out

    def body(self, forms: list[Any], scope: Scope, form: Any) -> A.Node:
        """A body: leading internal defines (letrec* semantics), then expressions."""
        forms = list(forms)
        defs: list[tuple[Symbol, Any, Any]] = []
        inner = Scope(scope)        # the body's definitions and macros
        expansions = 0
        while forms:
            f = forms[0]
            if type(f) is not Pair or type(f.car) is not Symbol:
                break
            local, head = self.resolve(f.car, inner)
            if local is None and head is BEGIN:
                forms[0:1] = items(f.cdr, "begin")
                continue
            if local is None and head is DEFINE:
                name, value = self.define_parts(f)
                defs.append((name, value, f))
                forms.pop(0)
                continue
            if local is None and head is DEFINE_VALUES:
                forms[0:1] = _control_forms.body_define_values(self, f)
                continue
            if local is None and head is _syntax.DEFINE_SYNTAX:
                _macro_forms.define_in_body(self, f, inner)
                forms.pop(0)
                continue
            macro = self.macro(head) if local is None and head not in SPECIAL else \
                local if local is not None and type(local) is not A.Var else None
            if macro is None:
                break
            expansions += 1             # a macro use may expand into definitions
            if expansions > _syntax.MAX_DEPTH:
                raise self.error(f"{head.name}: more than {_syntax.MAX_DEPTH} macro expansions "
                                 f"at the start of a body (does it expand into itself forever?)", f)
            self.metered = True
            forms[0] = _syntax.expand_once(self, macro, f, inner)
        if not forms:
            if defs:
                raise self.error("body has definitions but no expression", form)
            raise self.error("empty body", form)
        if not defs:
            return self.seq(forms, inner if inner.vars else scope)
        vars_ = [self.fresh(name, inner) for name, _, _ in defs]
        inits = [self.analyze_value(value, inner) for _, value, _ in defs]
        for var, init in zip(vars_, inits):
            if type(init) is A.Lambda:
                init.self_sym = None
        return A.Let(vars_, inits, self.seq(forms, inner), True, loc_of(form))

    def seq(self, forms: list[Any], scope: Scope | None) -> A.Node:
        nodes = [self.analyze(f, scope) for f in forms]
        return nodes[0] if len(nodes) == 1 else A.Seq(nodes, self.loc)

    def define_parts(self, form: Pair) -> tuple[Symbol, Any]:
        """`(define name expr)` or `(define (name . params) body...)` -> (name, expr)."""
        parts = items(form.cdr, "define", form.loc)
        if not parts:
            raise self.error("define: expected a name", form)
        target = parts[0]
        if type(target) is Pair:
            name = target.car
            if type(name) is not Symbol:
                raise self.error("define: procedure name must be a symbol", form)
            if len(parts) < 2:
                raise self.error(f"define: {name.name} has no body", form)
            lam = Pair(LAMBDA, Pair(target.cdr, form.cdr.cdr), form.loc)
            return name, NamedLambda(name, lam)
        if type(target) is not Symbol:
            raise self.error("define: expected a symbol or (name params...)", form)
        if len(parts) == 1:
            return target, VOID
        if len(parts) != 2:
            raise self.error(f"define: too many expressions for {target.name}", form)
        value = parts[1]
        if type(value) is Pair and (value.car is LAMBDA or type(value.car) is Symbol
                                    and self.aliases and _syntax.strip(value.car) is LAMBDA):
            value = NamedLambda(target, value)
        return target, value

    def lambda_(self, form: Pair, scope: Scope | None, name: str) -> A.Lambda:
        """`(lambda params body...)` with params `(a b)`, `(a . rest)` or `args`."""
        parts = items(form.cdr, "lambda", form.loc)
        if len(parts) < 2:
            raise self.error("lambda: expected parameters and a body", form)
        lam = A.Lambda(name, form, form.loc)
        inner = Scope(scope)
        self.lambdas.append(lam)
        try:
            params = parts[0]
            seen: set[Symbol] = set()
            while type(params) is Pair:
                p = params.car
                if type(p) is not Symbol or p in seen:
                    raise self.error(f"lambda: bad or repeated parameter {p!r}"
                                     if type(p) is not Symbol else
                                     f"lambda: parameter {p.name} appears twice", form)
                seen.add(p)
                lam.params.append(self.fresh(p, inner))
                params = params.cdr
            if type(params) is Symbol:
                if params in seen:
                    raise self.error(f"lambda: parameter {params.name} appears twice", form)
                lam.rest = self.fresh(params, inner)
            elif params is not None:
                raise self.error("lambda: parameters must be symbols", form)
            body = parts[1:]
            if len(body) > 1 and type(body[0]) is str:
                lam.doc = body[0]
                body = body[1:]
            lam.body = self.body(body, inner, form)
        finally:
            self.lambdas.pop()
        return lam


class NamedLambda:
    """A lambda form that a define gives a name to (not Lisp data; analysis only)."""

    __slots__ = ("name", "form")

    def __init__(self, name: Symbol, form: Pair) -> None:
        self.name, self.form = name, form


def is_constant(x: Any) -> bool:
    """Self-evaluating atoms that can be folded into a literal vector or map."""
    return type(x) in (int, float, str, bool, Keyword) or x is None or type(x).__name__ in (
        "Fraction", "Char")


def _analyze_value(an: Analyzer, value: Any, scope: Scope | None) -> A.Node:
    if type(value) is NamedLambda:
        lam = an.lambda_(value.form, scope, value.name.name)
        lam.self_sym = value.name
        return lam
    return an.analyze(value, scope)


Analyzer.analyze_value = _analyze_value  # type: ignore[attr-defined]


from . import forms as _special_forms  # noqa: E402,F401  (registers them)
from . import control as _control_forms  # noqa: E402  (registers let-values, parameterize...)
from . import syntax_rules as _syntax  # noqa: E402  (hygienic macros)
from . import macro_forms as _macro_forms  # noqa: E402  (registers define-syntax, let-syntax...)
from . import r7rs_compat as _r7rs_compat  # noqa: E402,F401  (define-record-type, import...)
