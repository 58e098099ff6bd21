"""Every value a program can make is stored and comes back the same after a reopen:
recursive closures, closures sharing a `set!` variable, cycles through boxes and
records, deep values, and (by hypothesis) any mix of data and procedures."""
from __future__ import annotations

import pickle
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import world
from ZODB.Connection import TransactionMetaData
from ZODB.FileStorage import FileStorage

from world.lisp.errors import LispError
from world.lisp.printer import write
from world.lisp.types import Char, Closure, Keyword, Symbol, _rebuild_closure, closure_shell
from world.objects.allowlist import oid_text
from world.objects.definitions import Definition
from world.objects.errors import ImageError


def reopened(path: Path, *forms: str) -> world.World:
    """The world at `path` after evaluating `forms` in it and closing it."""
    with world.open(path) as w:
        for form in forms:
            w.eval(form)
    return world.open(path)


def truth(w: world.World, text: str) -> bool:
    """Whether `text` evaluates to #t (not merely a true value)."""
    return w.eval(text) is True


# ---------------------------------------------------------------- explicit cases

CASES = [
    # (definitions, [(expression, expected printed value)])
    (["(define h (letrec ((f (lambda (n) (if (= n 0) 0 (f (- n 1)))))) f))"],
     [("(h 10)", "0"), ("(h 0)", "0")]),
    (["(define g (let loop () loop))"],
     [("(eq? g (g))", "#t"), ("(eq? g ((g)))", "#t")]),
    (["(define fact (letrec ((f (lambda (n) (if (= n 0) 1 (* n (f (- n 1))))))) f))"],
     [("(fact 20)", "2432902008176640000")]),
    (["(define eo (letrec ((ev (lambda (n) (if (= n 0) #t (od (- n 1)))))"
      " (od (lambda (n) (if (= n 0) #f (ev (- n 1)))))) (list ev od)))"],
     [("((car eo) 10)", "#t"), ("((cadr eo) 10)", "#f"), ("((car eo) 7)", "#f")]),
    (["(define sum (let loop ((k 0)) (lambda (n) (if (= n 0) k ((loop (+ k n)) (- n 1))))))"],
     [("(sum 4)", "10")]),
    (["(define cs (let ((n 0)) (list (lambda () (set! n (+ n 1)) n) (lambda () n))))",
      "((car cs))"],
     [("((car cs))", "2"), ("((cadr cs))", "2")]),
    (["(define b (box 0))", "(set-box! b b)"],
     [("(eq? b (unbox b))", "#t"), ("(eq? b (unbox (unbox b)))", "#t")]),
    (["(define-record node val f)",
      "(define r (let ((r (make-node 1 #f))) (set-node-f! r (lambda () r)) r))"],
     [("(eq? r ((node-f r)))", "#t"), ("(node-val ((node-f r)))", "1")]),
    # A box holding a recursive closure that captures the box.
    (["(define bx (let ((b (box #f))) (set-box! b (letrec ((f (lambda (n) (if (= n 0) b"
      " (f (- n 1)))))) f)) b))"],
     [("(eq? bx ((unbox bx) 3))", "#t")]),
    # The same recursive closure reached from two globals in one form.
    (["(define (mk) (letrec ((f (lambda (n) (if (= n 0) (quote done) (f (- n 1)))))) f))",
      "(define pair (let ((f (mk))) (list f f)))"],
     [("(eq? (car pair) (cadr pair))", "#t"), ("((car pair) 3)", "done")]),
    (["(define deep (let loop ((i 0) (acc (quote ()))) (if (= i 4000) acc"
      " (loop (+ i 1) (list acc)))))",
      "(define (depth x) (let loop ((x x) (d 0)) (if (null? x) d (loop (car x) (+ d 1)))))"],
     [("(depth deep)", "4000")]),
    (["(define chain (let loop ((i 0) (f (lambda () 0))) (if (= i 1500) f"
      " (loop (+ i 1) (lambda () (+ 1 (f)))))))"],
     [("(chain)", "1500")]),
    (["(define long (let loop ((i 0) (acc (quote ()))) (if (= i 50000) acc"
      " (loop (+ i 1) (cons i acc)))))"],
     [("(length long)", "50000"), ("(car long)", "49999")]),
]


IDS = ["letrec-self", "named-let-self", "letrec-fact", "letrec-mutual", "named-let-nontail",
       "shared-set-variable", "box-holds-itself", "record-closure-cycle", "box-closure-cycle",
       "closure-twice-in-a-value", "deep-list", "closure-chain", "long-list"]


@pytest.mark.parametrize("defs,checks", CASES, ids=IDS)
def test_value_survives_reopen(tmp_path: Path, defs: list[str], checks: list) -> None:
    with reopened(tmp_path / "w.fs", *defs) as w:
        for expr, expected in checks:
            assert write(w.eval(expr)) == expected, expr


def test_closures_sharing_a_variable_keep_sharing_across_reopens(tmp_path: Path) -> None:
    """Two closures over one `set!` variable, in two globals, still share it after
    each of several reopens, and what one does the next session sees."""
    path = tmp_path / "w.fs"
    with reopened(path, "(define cs (let ((n 0)) (list (lambda () (set! n (+ n 1)) n)"
                        " (lambda () n))))",
                  "(define inc (car cs))", "(define get (cadr cs))") as w:
        assert w.eval("(inc)") == 1 and w.eval("(get)") == 1
    for expected in (2, 3):
        with world.open(path) as w:
            assert w.eval("(inc)") == expected and w.eval("((cadr cs))") == expected
            assert w.eval("(get)") == expected


def test_an_image_written_before_closure_shells_still_loads(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Images hold closures pickled as `_rebuild_closure(template, captured)`."""
    path = tmp_path / "w.fs"
    with monkeypatch.context() as m:
        m.setattr(Closure, "__reduce__",
                  lambda self: (_rebuild_closure, (self.tmpl, self.captured())))
        with world.open(path) as w:
            w.eval("(define add (let ((k 5)) (lambda (n) (+ n k))))")
            w.eval("(define cnt (let ((n 0)) (lambda () (set! n (+ n 1)) n)))")
            w.eval("(cnt)")
        assert b"_rebuild_closure" in path.read_bytes()
    with world.open(path) as w:
        assert w.eval("(add 1)") == 6 and w.eval("(cnt)") == 2
        w.eval("(define add2 add)")         # stored again, in the new form
    with world.open(path) as w:
        assert w.eval("(add2 2)") == 7 and w.eval("(cnt)") == 3


class Shell:
    """Pickles as a closure shell of `tmpl` given `state` (omitted if None)."""

    def __init__(self, tmpl: object, state: object) -> None:
        self.tmpl, self.state = tmpl, state

    def __reduce__(self) -> tuple:
        return (closure_shell, (self.tmpl,)) + (() if self.state is None else (self.state,))


def tamper(path: Path, state: object) -> bytes:
    """Make `add` at `path` a closure shell given `state`; return its record's oid."""
    with world.open(path) as w:
        w.eval("(define add (let ((k 5)) (lambda (n) (+ n k))))")
        tmpl = w.eval("add").tmpl
        oid = w.image.root.definitions["add"]._p_oid
        data = (pickle.dumps((Definition, None), 3)
                + pickle.dumps({"name": "add", "value": Shell(tmpl, state)}, 3))
    fs = FileStorage(str(path))
    try:
        t = TransactionMetaData()
        fs.tpc_begin(t)
        fs.store(oid, fs.load(oid)[1], data, "", t)
        fs.tpc_vote(t)
        fs.tpc_finish(t)
    finally:
        fs.close()
    return oid


@pytest.mark.parametrize("state", [(1, 2, 3), (), [5], {"k": 5}, 5])
def test_a_malformed_closure_state_is_refused_in_one_line(tmp_path: Path, state: object) -> None:
    """A tampered record giving a closure shell other than one value per captured name."""
    path = tmp_path / "w.fs"
    oid = tamper(path, state)
    with world.open(path) as w, pytest.raises(ImageError) as e:
        w.eval("(add 1)")
    text = str(e.value)
    assert "\n" not in text and oid_text(oid) in text and "malformed closure" in text, text


def test_a_shell_never_given_its_state_is_a_closure_over_void(tmp_path: Path) -> None:
    """A tampered record with a shell but no state: calling it is a Lisp error, not a crash."""
    path = tmp_path / "w.fs"
    tamper(path, None)
    with world.open(path) as w, pytest.raises(LispError):
        w.eval("(add 1)")


def test_a_good_tampered_shell_loads(tmp_path: Path) -> None:
    """The same record written by hand with the right state: the closure works."""
    path = tmp_path / "w.fs"
    tamper(path, (7,))
    with world.open(path) as w:
        assert w.eval("(add 1)") == 8


# ---------------------------------------------------------------- generated values

@dataclass
class Spec:
    """A generated value: Lisp source that makes it, and a check of a path to it."""
    source: str
    check: Callable[[str], str]     # Lisp expression for "the value at this path is right"


def equal_to(source: str) -> Callable[[str], str]:
    return lambda p: f"(equal? {p} {source})"


def atom_text(v: object) -> str:
    """Source for an atom: symbols quoted, everything else written."""
    return "'" + write(v) if type(v) is Symbol else write(v)


NAMES = st.text("abcxyz-?!*", min_size=1, max_size=6)
ATOMS = st.one_of(
    st.integers(-2**40, 2**40),
    st.integers(2**64, 2**300),
    st.integers(-2**300, -2**64),
    st.builds(Fraction, st.integers(-10**20, 10**20), st.integers(1, 10**20)),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    NAMES.map(Symbol),
    NAMES.map(Keyword),
    st.characters(exclude_categories=("Cs",)).map(Char),
    st.booleans(),
).map(atom_text)
KEYS = st.one_of(NAMES.map(lambda n: ":" + n), st.integers(-99, 99).map(str),
                 NAMES.map(lambda n: f'"{n}"'))


def atom_spec(text: str) -> Spec:
    return Spec(text, equal_to(text))


def list_spec(items: list[Spec]) -> Spec:
    src = "(list " + " ".join(s.source for s in items) + ")"
    return Spec(src, lambda p: "(and (= (length %s) %d) %s)" % (p, len(items), " ".join(
        s.check(f"(list-ref {p} {i})") for i, s in enumerate(items)) or "#t"))


def improper_spec(items: list[Spec], tail: str) -> Spec:
    src = tail
    for s in reversed(items):
        src = f"(cons {s.source} {src})"

    def check(p: str) -> str:
        parts, q = [], p
        for s in items:
            parts.append(s.check(f"(car {q})"))
            q = f"(cdr {q})"
        return "(and " + " ".join(parts) + f" (equal? {q} {tail}))"
    return Spec(src, check)


def vector_spec(items: list[Spec]) -> Spec:
    src = "[" + " ".join(s.source for s in items) + "]"
    return Spec(src, lambda p: "(and (= (vector-length %s) %d) %s)" % (p, len(items), " ".join(
        s.check(f"(vector-ref {p} {i})") for i, s in enumerate(items)) or "#t"))


def map_spec(pairs: dict[str, Spec]) -> Spec:
    src = "{" + " ".join(f"{k} {v.source}" for k, v in pairs.items()) + "}"
    return Spec(src, lambda p: "(and (= (length (keys %s)) %d) %s)" % (p, len(pairs), " ".join(
        v.check(f"(get {p} {k})") for k, v in pairs.items()) or "#t"))


def box_spec(inner: Spec) -> Spec:
    return Spec(f"(box {inner.source})", lambda p: inner.check(f"(unbox {p})"))


def record_spec(a: Spec, b: Spec) -> Spec:
    return Spec(f"(make-rt {a.source} {b.source})",
                lambda p: f"(and (rt? {p}) {a.check(f'(rt-a {p})')} {b.check(f'(rt-b {p})')})")


def closure_spec(inner: Spec) -> Spec:
    """A closure capturing a value: calling it gives that value."""
    return Spec(f"(let ((x {inner.source})) (lambda () x))", lambda p: inner.check(f"({p})"))


def recursive_spec(inner: Spec, n: int) -> Spec:
    """A self-recursive letrec closure that returns a captured value after `n` calls."""
    return Spec(f"(let ((x {inner.source})) (letrec ((f (lambda (n) (if (= n 0) x"
                f" (f (- n 1)))))) f))", lambda p: inner.check(f"({p} {n})"))


def named_let_spec(inner: Spec) -> Spec:
    """A named-let procedure that captures itself (not in tail position)."""
    return Spec(f"(let ((x {inner.source})) (let loop ((k 0)) (lambda (m) (if (= m 0) x"
                f" ((loop (+ k 1)) (- m 1))))))", lambda p: inner.check(f"({p} 2)"))


def mutual_spec(inner: Spec) -> Spec:
    """Two mutually recursive letrec closures in a list."""
    src = (f"(let ((x {inner.source})) (letrec ((ev (lambda (n) (if (= n 0) x (od (- n 1)))))"
           f" (od (lambda (n) (if (= n 0) #f (ev (- n 1)))))) (list ev od)))")
    return Spec(src, lambda p: f"(and {inner.check(f'((car {p}) 4)')}"
                               f" {inner.check(f'((cadr {p}) 3)')})")


def shared_counter_spec(start: int) -> Spec:
    """Closures over one `set!` variable: each sees what another did (the check undoes
    its change, since one value may be checked through several paths)."""
    src = (f"(let ((n {start})) (list (lambda () (set! n (+ n 1)) n) (lambda () n)"
           f" (lambda () (set! n (- n 1)) n)))")
    return Spec(src, lambda p: f"(and (= ((cadr {p})) {start}) (= ((car {p})) {start + 1})"
                               f" (= ((cadr {p})) {start + 1}) (= ((caddr {p})) {start}))")


def shared_box_spec(inner: Spec) -> Spec:
    """One box reached twice in one value."""
    return Spec(f"(let ((b (box {inner.source}))) (list b b))",
                lambda p: f"(and (eq? (car {p}) (cadr {p})) {inner.check(f'(unbox (car {p}))')})")


# A value that mentions `shared`, a box bound to its own global: `eq?` after a reopen.
SHARED = Spec("shared", lambda p: f"(eq? {p} shared)")


def extend(children: st.SearchStrategy[Spec]) -> st.SearchStrategy[Spec]:
    small = st.lists(children, max_size=4)
    return st.one_of(
        small.map(list_spec),
        st.builds(improper_spec, st.lists(children, min_size=1, max_size=3), ATOMS),
        small.map(vector_spec),
        st.dictionaries(KEYS, children, max_size=3).map(map_spec),
        children.map(box_spec),
        st.builds(record_spec, children, children),
        children.map(closure_spec),
        st.builds(recursive_spec, children, st.integers(0, 30)),
        children.map(named_let_spec),
        children.map(mutual_spec),
        children.map(shared_box_spec),
    )


LEAVES = st.one_of(ATOMS.map(atom_spec), st.just(SHARED),
                   st.integers(-5, 5).map(shared_counter_spec))
VALUES = st.recursive(LEAVES, extend, max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VALUES, min_size=1, max_size=3), ATOMS)
def test_generated_values_survive_reopen(specs: list[Spec], shared: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "w.fs"
        forms = ["(define-record rt a b)", f"(define shared (box {shared}))"]
        forms += [f"(define v{i} {s.source})" for i, s in enumerate(specs)]
        with world.open(path) as w:
            for form in forms:
                w.eval(form)
            before = [write(w.eval(f"v{i}")) for i in range(len(specs))]
        with world.open(path) as w:
            after = [write(w.eval(f"v{i}")) for i in range(len(specs))]
            assert after == before
            for i, s in enumerate(specs):
                check = s.check(f"v{i}")
                assert truth(w, check), check
            assert truth(w, f"(equal? (unbox shared) {shared})")
