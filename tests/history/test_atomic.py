"""Atomic commits: one per definition, in the definition's transaction, with
canonical and typed source, kept across reopening, chained by hashes."""
from __future__ import annotations

import persistent
import pytest

import world
from world.history.commits import AtomicCommit
from world.lisp.types import to_pylist

from history_helpers import kw, user_log


def test_each_definition_is_one_commit_and_survives_reopening(image: str) -> None:
    with world.open(image) as w:
        w.eval('(define (sq x) "Square." (* x x))  ; squares\n(sq 3) (define n 5) (set! n 6)')
        w.eval("(defmacro twice (e) `(begin ,e ,e))")
        log = user_log(w)
        assert [world.write(kw(m, "symbol")) for m in log] == ["twice", "n", "n", "sq"]
        assert [world.write(kw(m, "kind")) for m in log] == ["defmacro", "set", "define", "define"]
    with world.open(image) as w:
        hist = w.image.root.history
        sq = hist.latest("sq")
        assert sq.source == '(define (sq x) "Square." (* x x))'
        assert sq.typed == '(define (sq x) "Square." (* x x))'
        assert sq.doc == "Square." and sq.kind == "define"
        assert [c.source for c in hist.versions("n")] == ["(set! n 6)", "(define n 5)"]
        assert w.eval("(history/verify)") is True


def test_typed_source_keeps_comments_and_layout(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (f x)\n  ;; double it\n  (* 2 x))")
        c = w.image.root.history.latest("f")
        assert c.typed == "(define (f x)\n  ;; double it\n  (* 2 x))"
        assert c.source == "(define (f x) (* 2 x))"


def test_no_commit_for_expressions_or_identical_redefinition(image: str) -> None:
    with world.open(image) as w:
        before = w.image.root.history.count
        w.eval("(+ 1 2) (list 1 2)")
        assert w.image.root.history.count == before
        w.eval("(define (f) 1)")
        w.eval("(define  (f)\n 1)")           # same canonical source
        assert len(user_log(w, "f")) == 1
        w.eval("(define (f) 2)")
        assert len(user_log(w, "f")) == 2


def test_commit_is_in_the_definitions_transaction(image: str) -> None:
    with world.open(image) as w:
        count = w.image.root.history.count
        with pytest.raises(world.LispError):
            w.eval("(begin (define g 1) (car '()))")  # one transaction: the error aborts g too
        with pytest.raises(world.LispError):
            w.eval("(when #t (define h 1) (car '()))")
        assert w.image.root.history.latest("h") is None
        assert "h" not in w.image.root.definitions
        assert w.image.root.history.latest("g") is None
        assert w.image.root.history.count == count


def test_define_record_and_macro_made_definitions_record_the_top_form(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define-record point x y)")
        hist = w.image.root.history
        for name in ("point", "make-point", "point?", "point-x", "set-point-y!"):
            assert hist.latest(name).source == "(define-record point x y)"
            assert hist.latest(name).kind == "define-record"
        w.eval("(defmacro def2 (a b) `(begin (define ,a 1) (define ,b 2)))")
        w.eval("(def2 p q)")
        assert hist.latest("p").source == hist.latest("q").source == "(def2 p q)"


def test_show_log_of_one_name_and_diff(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (f x)\n  (+ x 1))")
        w.eval("(define (f x)\n  (+ x 2))")
        versions = user_log(w, "f")
        assert len(versions) == 2 and kw(versions[0], "seq") > kw(versions[1], "seq")
        shown = w.eval(f'(history/show "{kw(versions[0], "id")}")')
        assert kw(shown, "source") == "(define (f x) (+ x 2))"
        assert kw(shown, "parent") == w.image.root.history.commits[kw(shown, "seq") - 1].hash
        by_seq = w.eval(f'(history/show {kw(versions[1], "seq")})')
        assert kw(by_seq, "source") == "(define (f x) (+ x 1))"
        diff = w.eval("(history/diff 'f)")
        assert "-  (+ x 1))" in diff and "+  (+ x 2))" in diff
        with pytest.raises(world.LispError, match="no atomic commit"):
            w.eval('(history/show "ffffffffffff")')
        with pytest.raises(world.LispError, match="has no history"):
            w.eval("(history/diff 'nothing)")


def test_undefine_removes_and_records(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (f) 1) (defmacro m () 1)")
        assert w.eval("(undefine 'f)") == world.read("f")
        w.eval("(undefine 'm)")
        with pytest.raises(world.LispError, match="unbound variable: f"):
            w.eval("(f)")
        assert world.write(kw(user_log(w, "f")[0], "kind")) == "undefine"
        with pytest.raises(world.LispError, match="undefine: nope is not defined"):
            w.eval("(undefine 'nope)")
        w.eval("(define car 1)")
        w.eval("(undefine 'car)")
        assert w.eval("(car '(7))") == 7                 # the primitive is back
    with world.open(image) as w:
        assert "f" not in w.image.root.definitions and "m" not in w.image.root.macros
        assert w.image.root.history.latest("m").source == "(undefine 'm)"


def test_commits_cannot_be_changed_in_python(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1)")
        c = w.image.root.history.latest("a")
        assert isinstance(c, AtomicCommit)
        with pytest.raises(AttributeError):
            c.source = "(define a 2)"


def test_verify_finds_a_commit_tampered_with_through_zodb(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define b 2) (define c 3)")
        target = w.image.root.history.latest("b").seq
    import ZODB
    import transaction
    from ZODB.FileStorage import FileStorage
    db = ZODB.DB(FileStorage(image))
    try:
        tm = transaction.TransactionManager()
        conn = db.open(tm)
        c = conn.root()["world"].history.commits[target]
        persistent.Persistent.__setattr__(c, "source", "(define b 666)")
        tm.commit()
        conn.close()
    finally:
        db.close()
    with world.open(image) as w:
        bad = to_pylist(w.eval("(history/verify)"))
        assert kw(bad[0], "subject").startswith(f"commit {target} ") and " b)" in kw(bad[0], "subject")
        assert "do not match its hash" in kw(bad[0], "message")


def test_verify_finds_a_broken_link(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define b 2)")
        c = w.image.root.history.latest("b")
        w.image.begin()
        persistent.Persistent.__setattr__(c, "parent", "0" * 64)
        persistent.Persistent.__setattr__(c, "hash", c.compute_hash())
        w.image.commit("tamper")
        bad = to_pylist(w.eval("(history/verify)"))
        assert kw(bad[0], "subject").startswith(f"commit {c.seq} ") and "parent" in kw(bad[0], "message")


def test_log_with_limit_and_bad_arguments(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define b 2) (define c 3)")
        last = to_pylist(w.eval("(history/log 2)"))
        assert [world.write(kw(m, "symbol")) for m in last] == ["c", "b"]
        with pytest.raises(world.LispError, match="expected a symbol"):
            w.eval('(history/log "a")')
