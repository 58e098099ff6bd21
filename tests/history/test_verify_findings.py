"""`(history/verify)` and `world history verify` prove what runs: every tamper mode the
issue lists is a finding naming the definition or commit, and a damaged record is a
finding, never a crash. Tampering is done to the real image file, as an attacker would."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


import world
from world.history.commits import GENESIS
from world.history.views import findings
from world.lisp.types import to_pylist

from history_helpers import kw, set_, tamper

ROOT = Path(__file__).resolve().parents[2]


def make(image: str) -> None:
    with world.open(image) as w:
        w.eval('(define greeting "hello world")')
        w.eval("(define (double x) (* 2 x))")
        w.eval("(define counter 0)")
        w.eval('(commit "first")')
        w.eval("(define (triple x) (* 3 x))")
        w.eval('(commit "second")')
        w.eval('(world/save "snap")')
        assert w.eval("(history/verify)") is True


def lines(image: str) -> list[str]:
    with world.open(image) as w:
        found = w.eval("(history/verify)")
        assert found is not True
        return [f"{world.write(kw(f, 'kind'))} {kw(f, 'subject')}: {kw(f, 'message')}"
                for f in to_pylist(found)]


def test_a_byte_changed_in_a_stored_value_is_found(image: str) -> None:
    make(image)
    data = Path(image).read_bytes()
    needle = b"X\x0b\x00\x00\x00hello world"    # the value's pickled string, not the source's
    assert data.count(needle) >= 1
    Path(image).write_bytes(data.replace(needle, b"X\x0b\x00\x00\x00jello world"))
    Path(image + ".index").unlink(missing_ok=True)
    with world.open(image) as w:
        assert w.eval("greeting") == "jello world"          # it opens and runs the wrong value...
    found = lines(image)
    assert found == [found[0]] and found[0].startswith(":definition greeting: differs from what commit")


def test_a_set_value_behind_the_worlds_back_is_found(image: str) -> None:
    make(image)
    tamper(image, lambda root: set_(root.definitions["counter"], "value", 99))
    assert [x.split(":")[1].strip() for x in lines(image)] == ["definition counter"]


def test_an_injected_definition_with_no_commit_is_found(image: str) -> None:
    make(image)

    def inject(root: Any) -> None:
        from world.objects.definitions import Definition
        root.definitions["evil"] = Definition("evil", "define", 666, "(define evil 666)", None)
    tamper(image, inject)
    assert lines(image) == [":definition evil: is defined but no commit records it"]


def test_an_edited_human_commit_message_is_found(image: str) -> None:
    make(image)
    tamper(image, lambda root: set_(root.history.humans[root.history.humans_count - 1],
                                    "message", "nothing to see"))
    found = lines(image)
    assert any(x.startswith(":human human commit") and "do not match its hash" in x for x in found)


def test_a_dropped_newest_commit_is_found(image: str) -> None:
    make(image)
    with world.open(image) as w:
        w.eval("(define (quad x) (* 4 x))")          # pending, newest

    def drop(root: Any) -> None:
        h = root.history
        newest = h.commits[h.count]
        assert newest.symbol == "quad"
        del h.commits[h.count]
        h.pending.remove(newest.seq)
        del h.by_symbol["quad"]
        h.tip.head, h.tip.count = newest.parent, h.count - 1
    tamper(image, drop)
    assert lines(image) == [":definition quad: is defined but no commit records it"]


def test_a_commit_recomputed_after_an_edit_breaks_the_next_link(image: str) -> None:
    make(image)

    def edit(root: Any) -> None:
        c = root.history.latest("double")
        set_(c, "source", "(define (double x) (* 3 x))")
        set_(c, "hash", c.compute_hash())
    tamper(image, edit)
    found = lines(image)
    assert any("parent hash is not the previous commit's hash" in x for x in found)
    assert any("atomic head it was made at is not in the chain" in x
               or "which the chain does not have" in x for x in found)


def test_a_snapshot_whose_head_is_not_in_the_chain_is_found(image: str) -> None:
    make(image)
    tamper(image, lambda root: set_(root.snapshots["snap"], "head", "f" * 64))
    assert lines(image) == [":snapshot snap: the chain head it was saved at is not in the chain"]


def test_a_damaged_commit_record_is_a_finding_not_a_crash(image: str) -> None:
    make(image)
    with world.open(image) as w:
        seq = w.image.root.history.latest("double").seq

    def corrupt(root: Any) -> None:
        c = root.history.commits[seq]
        set_(c, "source", "(define (double x) (* 2 x)) ;MARKER-0123456789")
    tamper(image, corrupt)
    data = Path(image).read_bytes()
    at = data.rindex(b";MARKER-0123456789")
    # the string's length prefix now claims far more than the record holds: unpickling fails
    Path(image).write_bytes(data[:at] + b"\x80\x80\x80\x80" + data[at + 4:])
    Path(image + ".index").unlink(missing_ok=True)
    with world.open(image) as w:
        found = findings(w.image.root)
    assert found, "a damaged record must be a finding"
    assert any(f.kind in ("damaged", "chain") and f"commit {seq}" in f.subject for f in found)


def test_cli_verify_prints_one_line_per_finding_and_json(image: str) -> None:
    make(image)
    tamper(image, lambda root: set_(root.definitions["counter"], "value", 99))
    run = [sys.executable, "-m", "repl.cli", "history", "verify", "--world", image]
    r = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 1 and r.stdout.splitlines() == [r.stdout.splitlines()[0]]
    assert r.stdout.startswith("definition: counter: differs from what commit") and not r.stderr
    r = subprocess.run(run + ["--json"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    data = json.loads(r.stdout)
    assert r.returncode == 1 and data["ok"] is False
    assert data["findings"] == [{"kind": "definition", "subject": "counter",
                                 "message": data["findings"][0]["message"]}]


def test_a_new_world_and_every_kind_of_change_verify_clean(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define n 1) (set! n 2) (define-record point x y) (defmacro twice (e) `(begin ,e ,e))")
        w.eval("(define b (box 0)) (set-box! b 5) (define p (make-point 1 2)) (set-point-x! p 9)")
        w.eval("(define h (letrec ((f (lambda (k) (if (= k 0) 0 (f (- k 1)))))) f))")
        w.eval("(undefine 'n)")
        assert w.eval("(history/verify)") is True
        assert w.image.root.history.head != GENESIS
    with world.open(image) as w:
        assert w.eval("(history/verify)") is True


def test_a_second_process_hashing_the_live_definitions_finds_the_same(
        image: str, monkeypatch) -> None:
    from world.history import views
    make(image)
    tamper(image, lambda root: set_(root.definitions["counter"], "value", 99))
    monkeypatch.setattr(views, "LARGE", 1)          # a small world is hashed in-process otherwise
    with world.open(image, read_only=True) as w:
        here = findings(w.image.root)
        helper = views._elsewhere(image)
        assert helper is not None and helper.result() == views.live_states(w.image.root)
        there = findings(w.image.root, image=image)
    assert [f.line() for f in there] == [f.line() for f in here]
    assert [f.subject for f in here] == ["counter"]


def test_a_helper_process_that_fails_leaves_verify_to_this_one(image: str, monkeypatch,
                                                                tmp_path: Path) -> None:
    from world.history import views
    make(image)
    monkeypatch.setattr(views, "LARGE", 1)
    with world.open(image, read_only=True) as w:      # the helper finds no image there
        assert findings(w.image.root, image=str(tmp_path / "missing.fs")) == []
