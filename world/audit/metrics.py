"""Metrics of one definition, computed from its form (Lisp data).

`measure` walks the defining form once, keeping track of local bindings, and
returns plain data: body length, cyclomatic complexity, magic numbers, unused
parameters, missing docstring, redefinition of a core name, unsafe names
used, allocations inside loops and non-portable names. The rules (written in
Lisp) read these as a map with keyword keys.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Container, Iterable

from ..lisp.analyze import SPECIAL
from ..lisp.primitives import UNSAFE
from ..lisp.types import Keyword, LispMap, Pair, Symbol
from .portable import PORTABLE

S = Symbol
QUOTE, QUASI, UNQ, SPLICE = S("quote"), S("quasiquote"), S("unquote"), S("unquote-splicing")
LAMBDA, DEFINE, DEFMACRO, DEFRULE = S("lambda"), S("define"), S("defmacro"), S("defrule")
BRANCHES = {S("if"), S("when"), S("unless")}
LETS = {S("let"), S("let*"), S("letrec"), S("letrec*")}
ALLOCATING = frozenset("""cons list vector make-vector make-list make-string string-append
append list-copy vector-copy list->vector vector->list string->list list->string hash-map
assoc dissoc map filter reverse iota string vector-map vector-append string-map string-split
string-join substring subvector box number->string string-copy sort delete-duplicates remove
delete merge quasiquote""".split())
# Host names that are syntax rather than primitives, beside the special forms.
SYSTEM_MACROS: set[str] = set()


_CORE: list[Any] = [None, frozenset()]     # (registry size it was made from, names)


def core_names() -> frozenset[str]:
    """Every name the host provides: primitives, special forms, system macros."""
    from ..lisp.primitives import load
    prims = load()
    key = (len(prims), len(SPECIAL), len(SYSTEM_MACROS))
    if _CORE[0] != key:
        _CORE[0], _CORE[1] = key, frozenset(set(prims) | {s.name for s in SPECIAL} | SYSTEM_MACROS)
    return _CORE[1]


def _items(x: Any) -> list[Any]:
    out = []
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    return out


def _params(p: Any) -> list[str]:
    out = []
    while type(p) is Pair:
        if type(p.car) is Symbol:
            out.append(p.car.name)
        p = p.cdr
    if type(p) is Symbol:
        out.append(p.name)
    return out


def _is_number(x: Any) -> bool:
    return type(x) in (int, float, Fraction)


class Walker:
    """One pass over a body: sizes, decisions, numbers, free names, allocations."""

    def __init__(self, self_name: str | None) -> None:
        self.self_name = self_name
        self.nodes = 0
        self.decisions = 0
        self.numbers: list[Any] = []
        self.free: set[str] = set()
        self.used: set[str] = set()
        self.loop_allocs = 0
        self.allocs = 0
        self.recursive = False

    def walk(self, x: Any, bound: frozenset[str], loop: bool) -> None:
        """Walk expression `x` with locals `bound`; `loop` if it runs repeatedly."""
        self.nodes += 1
        t = type(x)
        if t is Symbol:
            self.used.add(x.name)
            if x.name not in bound:
                self.free.add(x.name)
            return
        if _is_number(x) and type(x) is not bool:
            if x not in (0, 1):
                self.numbers.append(x)
            return
        if t is tuple:
            for v in x:
                self.walk(v, bound, loop)
            return
        if t is LispMap:
            for k, v in x.items():
                self.walk(k, bound, loop)
                self.walk(v, bound, loop)
            return
        if t is not Pair:
            return
        head, args = x.car, _items(x.cdr)
        name = head.name if type(head) is Symbol and head.name not in bound else None
        if name == "quote":
            self.nodes += 1
            return
        if name == "quasiquote":
            self.allocs += 1
            self.loop_allocs += loop
            self._quasi(args[0] if args else None, bound, loop)
            return
        if name is not None and self.self_name == name:
            self.recursive = True
        if name is not None and name in ALLOCATING:
            self.allocs += 1
            self.loop_allocs += loop
        if name in _FORMS:
            getattr(self, _FORMS[name])(args, bound, loop)
            return
        for part in (head, *args):
            self.walk(part, bound, loop)

    def body(self, forms: Iterable[Any], bound: frozenset[str], loop: bool) -> None:
        """Walk a body; internal defines bind their names for the whole body."""
        forms = list(forms)
        inner = set(bound)
        for f in forms:
            if type(f) is Pair and f.car is DEFINE and type(f.cdr) is Pair:
                target = f.cdr.car
                if type(target) is Pair and type(target.car) is Symbol:
                    inner.add(target.car.name)
                elif type(target) is Symbol:
                    inner.add(target.name)
        fb = frozenset(inner)
        for f in forms:
            self.walk(f, fb, loop)

    def _quasi(self, x: Any, bound: frozenset[str], loop: bool) -> None:
        if type(x) is Pair:
            if x.car in (UNQ, SPLICE) and type(x.cdr) is Pair:
                self.walk(x.cdr.car, bound, loop)
                return
            while type(x) is Pair:
                self._quasi(x.car, bound, loop)
                x = x.cdr
        elif type(x) is tuple:
            for v in x:
                self._quasi(v, bound, loop)

    # -- the forms that bind, branch or loop
    def _f_lambda(self, args: list, bound: frozenset[str], loop: bool) -> None:
        self.allocs += 1
        self.loop_allocs += loop
        if args:
            self.body(args[1:], bound | set(_params(args[0])), loop)

    def _f_define(self, args: list, bound: frozenset[str], loop: bool) -> None:
        if not args:
            return
        if type(args[0]) is Pair:
            self.body(args[1:], bound | set(_params(args[0].cdr)), loop)
        else:
            for a in args[1:]:
                self.walk(a, bound, loop)

    def _f_let(self, args: list, bound: frozenset[str], loop: bool) -> None:
        named = bool(args) and type(args[0]) is Symbol
        loop_name = {args[0].name} if named else set()
        if named:
            args = args[1:]
        if not args:
            return
        bindings = [b for b in _items(args[0]) if type(b) is Pair]
        names = {b.car.name for b in bindings if type(b.car) is Symbol}
        for b in bindings:
            for e in _items(b.cdr):
                self.walk(e, bound | names, loop)
        self.body(args[1:], bound | names | loop_name, loop or named)

    def _f_do(self, args: list, bound: frozenset[str], loop: bool) -> None:
        specs = [b for b in _items(args[0]) if type(b) is Pair] if args else []
        names = bound | {b.car.name for b in specs if type(b.car) is Symbol}
        for b in specs:
            parts = _items(b.cdr)
            if parts:
                self.walk(parts[0], bound, loop)
            for step in parts[1:]:
                self.walk(step, names, True)
        if len(args) > 1:
            self.decisions += 1
            for e in _items(args[1]):
                self.walk(e, names, True)
        self.body(args[2:], names, True)

    def _f_if(self, args: list, bound: frozenset[str], loop: bool) -> None:
        self.decisions += 1
        for a in args:
            self.walk(a, bound, loop)

    def _f_cond(self, args: list, bound: frozenset[str], loop: bool) -> None:
        for clause in args:
            parts = _items(clause)
            if parts and parts[0] != S("else"):
                self.decisions += 1
            for p in parts:
                if p not in (S("else"), S("=>")):
                    self.walk(p, bound, loop)

    def _f_case(self, args: list, bound: frozenset[str], loop: bool) -> None:
        if args:
            self.walk(args[0], bound, loop)
        for clause in args[1:]:
            parts = _items(clause)
            if parts and parts[0] != S("else"):
                self.decisions += 1
            for p in parts[1:]:
                self.walk(p, bound, loop)

    def _f_and(self, args: list, bound: frozenset[str], loop: bool) -> None:
        self.decisions += max(0, len(args) - 1)
        for a in args:
            self.walk(a, bound, loop)

    def _f_guard(self, args: list, bound: frozenset[str], loop: bool) -> None:
        spec = _items(args[0]) if args else []
        inner = bound | ({spec[0].name} if spec and type(spec[0]) is Symbol else set())
        for clause in spec[1:]:
            self.decisions += 1
            for p in _items(clause):
                self.walk(p, inner, loop)
        self.body(args[1:], bound, loop)


_FORMS = {"lambda": "_f_lambda", "define": "_f_define", "let": "_f_let", "let*": "_f_let",
          "letrec": "_f_let", "letrec*": "_f_let", "do": "_f_do", "if": "_f_if",
          "when": "_f_if", "unless": "_f_if", "cond": "_f_cond", "case": "_f_case",
          "and": "_f_and", "or": "_f_and", "guard": "_f_guard"}


def _lambda_parts(x: Any) -> tuple[list[str], list[Any], bool] | None:
    """(params, body, has_doc) of a lambda expression, or None."""
    if type(x) is Pair and x.car is LAMBDA and type(x.cdr) is Pair:
        body = _items(x.cdr.cdr)
        return _params(x.cdr.car), body, len(body) > 1 and type(body[0]) is str
    return None


def shape(form: Any) -> tuple[list[str] | None, list[Any], bool, bool]:
    """(params or None, body forms, is a procedure, has a docstring) of a defining form."""
    parts = _items(form) if type(form) is Pair else []
    head = parts[0] if parts else None
    if head is DEFINE and len(parts) >= 2:
        target = parts[1]
        if type(target) is Pair:
            body = parts[2:]
            return _params(target.cdr), body, True, len(body) > 1 and type(body[0]) is str
        lam = _lambda_parts(parts[2]) if len(parts) > 2 else None
        if lam is not None:
            return lam[0], lam[1], True, lam[2]
        return None, parts[2:], False, False
    if head is DEFMACRO and len(parts) >= 3:
        body = parts[3:]
        return _params(parts[2]), body, True, len(body) > 1 and type(body[0]) is str
    if head is DEFRULE:
        opts = dict(zip(parts[2::2], parts[3::2]))
        lam = _lambda_parts(opts.get(Keyword("when")))
        has_doc = type(opts.get(Keyword("message"))) is str
        if lam is not None:
            return lam[0], lam[1], True, has_doc
        return None, parts[2:], False, has_doc
    return None, parts[1:], False, False


def _stated_numbers(form: Any) -> set[Any]:
    """The numbers a `defrule` form's :message states."""
    parts = _items(form) if type(form) is Pair else []
    msg = dict(zip(parts[2::2], parts[3::2])).get(Keyword("message"))
    if type(msg) is not str:
        return set()
    out: set[Any] = set()
    for word in re.findall(r"-?\d+(?:\.\d+)?", msg):
        out.add(float(word) if "." in word else int(word))
    return out


def measure(form: Any, symbol: str, kind: str, defined: Container[str] = frozenset(),
            core: Container[str] | None = None) -> dict[str, Any]:
    """The metrics of defining form `form` for `symbol`; `defined`: names the world defines."""
    core = core_names() if core is None else core
    params, body, is_proc, has_doc = shape(form)
    w = Walker(symbol if is_proc else None)
    w.body(body, frozenset(params or ()), False)
    host = {n for n in w.free if n in core and n != symbol and n not in defined}
    numbers = tuple(w.numbers) if is_proc else ()
    non_portable = tuple(sorted(n for n in host if n not in PORTABLE))
    if kind == "defrule":
        # A rule runs only in this world's audit sandbox, reading its metrics map (`get`,
        # keywords): portability means nothing for it. Its threshold is its subject, named
        # by its message ("longer than 150 forms"): only unexplained numbers are magic.
        non_portable = ()
        stated = _stated_numbers(form)
        numbers = tuple(n for n in numbers if n not in stated)
    return {
        "name": symbol,
        "kind": kind,
        "body-length": w.nodes,
        "cyclomatic-complexity": 1 + w.decisions,
        "magic-numbers": numbers,
        "unused-parameters": tuple(p for p in (params or ()) if p not in w.used
                                   and not p.startswith("_")),
        "missing-docstring": is_proc and not has_doc,
        "redefines-core": symbol in core,
        "unsafe-names": tuple(sorted(n for n in host if n in UNSAFE)),
        "allocations-in-loops": w.allocs if w.recursive else w.loop_allocs,   # recursion is a loop
        "non-portable-names": non_portable,
        "procedure": is_proc,
        "recursive": w.recursive,
    }


def as_lisp(metrics: dict[str, Any]) -> LispMap:
    """The metrics as a Lisp map with keyword keys (lists for sequences)."""
    from ..lisp.types import make_list
    out = []
    for k, v in metrics.items():
        if type(v) is tuple:
            v = make_list([S(x) if type(x) is str else x for x in v])
        out.append((Keyword(k), v))
    return LispMap(out)
