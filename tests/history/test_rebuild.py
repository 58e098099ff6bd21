"""Rebuilding a world from atomic or human history, production images, dumps."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import ZODB
from ZODB.FileStorage import FileStorage

import world
from world.build import rebuild
from world.lisp.types import to_pylist

from history_helpers import kw

PROGRAM = """
(define (sq x) "Square." (* x x))
(defmacro twice (e) `(begin ,e ,e))
(define-record point x y)
(define (norm2 p) "Squared length." (+ (sq (point-x p)) (sq (point-y p))))
"""


def build(image: str) -> None:
    """A world with committed and pending history, a redefinition and an undefine."""
    with world.open(image) as w:
        w.eval(PROGRAM)
        w.eval("(check 25 (norm2 (make-point 3 4)))")
        w.eval('(commit "geometry")')
        w.eval("(define (sq x) \"Square.\" (* x x 1))")     # newer, committed
        w.eval("(define scratch 1) (undefine 'scratch)")
        w.eval("(define (helper) (sq 2))")
        w.eval('(commit "helper")')
        w.eval("(define (sq x) \"Square, pending.\" (* x x))")   # pending: not in human history


def test_rebuild_from_atomic_history_replays_everything(image: str, tmp_path: Path) -> None:
    build(image)
    dest = str(tmp_path / "atomic.fs")
    seen = []
    with world.open(image) as w:
        report = rebuild(w, dest, "atomic", progress=lambda done, total: seen.append((done, total)))
        src_latest = {n: w.image.root.history.latest(n).source
                      for n in w.image.root.history.by_symbol.keys()}
    assert report.ok, (report.mismatches, report.errors)
    assert seen and seen[-1][0] == seen[-1][1]
    assert [o.passed for o in report.checks] == [True]
    with world.open(dest) as d:
        assert d.eval("(sq 3)") == 9 and d.eval("(helper)") == 4
        assert d.image.root.history.latest("sq").doc == "Square, pending."
        assert "scratch" not in d.image.root.definitions
        got = {n: d.image.root.history.latest(n).source for n in d.image.root.history.by_symbol.keys()}
        assert got == src_latest
        assert d.eval("(history/verify)") is True
        msgs = [kw(m, "message") for m in to_pylist(d.eval("(history/milestones)"))]
        assert msgs[-2:] == ["geometry", "helper"]
        assert [world.write(kw(m, "symbol")) for m in to_pylist(d.eval("(history/pending)"))] == ["sq"]
        assert len(d.image.root.audit.checks) == 1
        assert kw(d.eval("(audit/run)"), "failed") == 0


def test_rebuild_from_human_history_takes_latest_committed_versions(image: str, tmp_path: Path) -> None:
    build(image)
    dest = str(tmp_path / "human.fs")
    with world.open(image) as w:
        report = rebuild(w, dest, "human")
    assert report.ok, (report.mismatches, report.errors)
    with world.open(dest) as d:
        assert d.image.root.history.latest("sq").doc == "Square."      # not the pending one
        assert d.eval("(sq 3)") == 9
        assert "scratch" not in d.image.root.definitions
        assert d.eval("(norm2 (make-point 1 2))") == 5


def test_human_rebuild_reproduces_values_made_before_a_redefinition(image: str, tmp_path: Path) -> None:
    # Replayed in the order it happened (not dependencies first, which gave value 8): a value
    # computed from base before base was redefined stays what it was live.
    with world.open(image) as w:
        w.eval("(define (base) 7)")
        w.eval("(define (user) (+ (base) 0))")
        w.eval("(defmacro incr (x) `(+ ,x 1))")
        w.eval("(define (uses-macro) (incr 1))")
        w.eval("(define value (user))")
        w.eval("(define (base) 8)")
        w.eval("(defmacro incr (x) `(+ ,x 2))")
        w.eval('(commit "all")')
        report = rebuild(w, str(tmp_path / "dest.fs"), "human")
    assert report.ok, (report.mismatches, report.errors)
    with world.open(image) as w, world.open(str(tmp_path / "dest.fs")) as d:
        live = (w.eval("value"), w.eval("(uses-macro)"), w.eval("(user)"))
        assert live[0] == 7 and live[2] == 8
        assert (d.eval("value"), d.eval("(uses-macro)"), d.eval("(user)")) == live


def test_rebuild_reports_mismatch_and_failing_check(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval("(define counter (box 0))")
        w.eval("(define (next!) (set-box! counter (+ (unbox counter) 1)) (unbox counter))")
        w.eval("(define (bump) 1)")
        w.eval("(check 1 (bump))")
        w.eval("(set! bump (lambda () 2))")          # a commit of kind set: the check fails, rebuilt too
        w.eval('(commit "c")')
        hist = w.image.root.history
        import persistent
        w.image.begin()                             # a record whose source no longer replays as recorded
        c = hist.latest("counter")
        persistent.Persistent.__setattr__(c, "source", "(define counter (box 1))")
        w.image.commit("tamper")
        with pytest.raises(world.LispError, match="does not verify: chain: commit .* counter"):
            rebuild(w, str(tmp_path / "dest.fs"), "atomic")
        report = rebuild(w, str(tmp_path / "dest.fs"), "atomic", force=True)
    assert not report.ok and report.forced
    assert [m[0] for m in report.mismatches] == ["counter"]
    assert not report.checks[0].passed               # rebuilt bump returns 2, as it does live


def test_rebuild_refuses_an_existing_destination(image: str, tmp_path: Path) -> None:
    build(image)
    dest = tmp_path / "exists.fs"
    dest.write_text("x")
    with world.open(image) as w:
        with pytest.raises(world.LispError, match="already exists"):
            rebuild(w, str(dest), "atomic")


def _classes(path: str) -> set[str]:
    db = ZODB.DB(FileStorage(path, read_only=True))
    try:
        conn = db.open()
        seen: set[str] = set()
        for oid in db.storage._index.keys():
            obj = conn.get(oid)
            seen.add(type(obj).__name__)
        conn.close()
        return seen
    finally:
        db.close()


def test_production_image_has_curated_code_only(image: str, tmp_path: Path) -> None:
    build(image)
    prod = str(tmp_path / "prod.fs")
    with world.open(image) as w:
        with pytest.raises(world.LispError, match="pending for sq"):
            rebuild(w, prod, production=True)
        w.eval('(commit "sq again")')
        w.eval("(define (experiment) 1)")
        w.eval("(undefine 'experiment)")
        w.eval('(commit "tried something")')
        report = rebuild(w, prod, production=True)
    assert report.ok, (report.mismatches, report.errors)
    assert 0 < report.size < report.source_size
    classes = _classes(prod)
    for forbidden in ("History", "AtomicCommit", "HumanCommit", "AuditStore", "Rule", "Check"):
        assert forbidden not in classes
    with world.open(prod) as p:
        assert p.eval("(norm2 (make-point 3 4))") == 25 and p.eval("(helper)") == 4
        assert "experiment" not in p.image.root.definitions
        assert p.image.root.history is None and p.image.root.audit is None
        p.eval("(define added 1)")                    # works, and still records nothing
        assert p.image.root.history is None
        with pytest.raises(world.LispError, match="production image"):
            p.eval("(history/log)")
    assert "History" not in _classes(prod)


def test_dump_then_run_into_an_empty_image_reproduces_the_definitions(image: str, tmp_path: Path) -> None:
    from world.history.dump import dump
    with world.open(image) as w:
        w.eval("(define (late) (early))\n;; early is defined after its user\n(define (early) 3)")
        w.eval(PROGRAM)
        w.eval("(define temp 1) (undefine 'temp)")
        files = dump(w, str(tmp_path / "one"))
        by_kind = dump(w, str(tmp_path / "kinds"), by_kind=True)
        want = {n: d.source for n, d in w.image.root.definitions.items()}
        want_macros = {n: d.source for n, d in w.image.root.macros.items()}
    assert [os.path.basename(f) for f in files] == ["world.lisp"]
    assert [os.path.basename(f) for f in by_kind] == ["01-defmacro.lisp", "02-define-record.lisp",
                                                      "03-define.lisp", "04-defrule.lisp"]
    text = Path(files[0]).read_text()
    assert "temp" not in text and text.count("(define-record point x y)") == 1
    fresh = str(tmp_path / "fresh.fs")
    with world.open(fresh) as f:
        f.eval(text)
        assert {n: d.source for n, d in f.image.root.definitions.items()} == want
        assert {n: d.source for n, d in f.image.root.macros.items()} == want_macros
        assert f.eval("(late)") == 3
    fresh2 = str(tmp_path / "fresh2.fs")
    with world.open(fresh2) as f:
        for path in by_kind:
            f.eval(Path(path).read_text())
        assert {n: d.source for n, d in f.image.root.definitions.items()} == want


def test_restoring_a_snapshot_is_recorded_so_history_still_rebuilds_the_world(
        image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval('(define (sq x) "Square." (* x x)) (define kept 1)')
        w.eval('(world/save "before")')
        w.eval('(define (sq x) "Cube, by mistake." (* x x x)) (define extra 2)')
        w.eval('(world/restore "before")')
        assert w.eval("(sq 3)") == 9
        hist = w.image.root.history
        assert hist.latest("sq").source == '(define (sq x) "Square." (* x x))'
        assert hist.latest("extra").kind == "undefine"
        assert hist.latest("kept").kind == "define"
        assert w.eval("(history/verify)") is True
        dest = str(tmp_path / "again.fs")
        report = rebuild(w, dest, "atomic")
    assert report.ok, (report.mismatches, report.errors)
    with world.open(dest) as d:
        assert d.eval("(sq 3)") == 9 and d.eval("kept") == 1
        assert "extra" not in d.image.root.definitions
