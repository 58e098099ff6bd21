"""Tampering never reaches a rebuilt image: `rebuild`, `build-prod` and `save-dev` verify
the source first and refuse, naming the first finding; `--force` (`:force #t`) builds
anyway and the new image says so; a production image verifies against its manifest.
Tampering is done to the real image file with raw ZODB, behind the world's back."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import world
from world.build import Unverified, build_prod, rebuild, save_dev
from world.history.views import findings

from history_helpers import kw, set_, tamper

ROOT = Path(__file__).resolve().parents[2]


def make(image: str) -> None:
    with world.open(image) as w:
        w.eval('(define greeting "hello world")')
        w.eval("(define (double x) (* 2 x))")
        w.eval("(define counter 0)")
        w.eval('(commit "first")')
        w.eval("(define (triple x) (double (+ x (double x))))")
        w.eval('(commit "second")')


def change_value(image: str) -> None:
    """A byte changed in a stored definition's value (its pickled string)."""
    data = Path(image).read_bytes()
    needle = b"X\x0b\x00\x00\x00hello world"
    assert data.count(needle) >= 1
    Path(image).write_bytes(data.replace(needle, b"X\x0b\x00\x00\x00jello world"))
    Path(image + ".index").unlink(missing_ok=True)


def inject(image: str) -> None:
    def add(root: Any) -> None:
        from world.objects.definitions import Definition
        root.definitions["evil"] = Definition("evil", "define", 666, "(define evil 666)", None)
    tamper(image, add)


def edit_message(image: str) -> None:
    tamper(image, lambda root: set_(root.history.humans[1], "message", "nothing to see"))


def rewrite_chain(image: str) -> None:
    """Edit an old commit and recompute every hash after it, so the atomic chain is whole."""
    def rewrite(root: Any) -> None:
        h = root.history
        first = h.latest("double").seq
        set_(h.commits[first], "source", "(define (double x) (+ x x))")
        for seq in range(first, h.count + 1):
            c = h.commits[seq]
            set_(c, "parent", h.commits[seq - 1].hash)
            set_(c, "hash", c.compute_hash())
        h.tip.head = h.commits[h.count].hash
    tamper(image, rewrite)


TAMPERS = {"value": (change_value, "definition: greeting: differs"),
           "injected": (inject, "definition: evil: is defined but no commit"),
           "message": (edit_message, "human: human commit"),
           "chain": (rewrite_chain, "human: human commit")}


@pytest.mark.parametrize("mode", sorted(TAMPERS))
def test_every_tamper_mode_is_refused_and_force_is_recorded(mode: str, image: str,
                                                            tmp_path: Path) -> None:
    make(image)
    how, first = TAMPERS[mode]
    how(image)
    with world.open(image) as w:
        for build in (lambda d, **k: rebuild(w, d, "atomic", **k),
                      lambda d, **k: rebuild(w, d, "human", **k),
                      lambda d, **k: build_prod(w, d, **k)):
            with pytest.raises(Unverified, match="refused: the source does not verify: " + first):
                build(str(tmp_path / "refused.fs"))
        assert not os.path.exists(tmp_path / "refused.fs")
        with pytest.raises(Unverified):
            w.eval(f'(world/save-dev "{tmp_path / "dev.fs"}")')
        with pytest.raises(Unverified):
            w.eval(f'(world/build-prod "{tmp_path / "refused.fs"}")')
        r = rebuild(w, str(tmp_path / "forced.fs"), "atomic", force=True)
        p = w.eval(f'(world/build-prod "{tmp_path / "prod.fs"}" :force #t)')
        assert kw(p, "forced") is not None
        w.eval(f'(world/save-dev "{tmp_path / "dev.fs"}" :force #t)')
    assert r.forced and first in r.forced[0]
    for built in ("forced.fs", "prod.fs", "dev.fs"):
        with world.open(str(tmp_path / built)) as b:
            kinds = [f.kind for f in findings(b.image.root)]
            assert kinds[0] == "forced", (built, kinds)
            if built != "dev.fs":               # history wins: the tamper did not travel
                assert b.eval("greeting") == "hello world" and "evil" not in b.image.root.definitions
                assert kinds == ["forced"], (built, kinds)


def test_a_production_image_verifies_against_its_manifest(image: str, tmp_path: Path) -> None:
    make(image)
    prod = str(tmp_path / "prod.fs")
    with world.open(image) as w:
        r = build_prod(w, prod)
        assert r.ok and not r.forced
        hist = w.image.root.history
        head, human = hist.head, hist.humans[hist.humans_count].hash
    with world.open(prod) as p:
        assert p.eval("(history/verify)") is True
        assert p.image.root.settings["source-head"] == head
        assert p.image.root.settings["source-human-head"] == human
    from repl.cli_check import run_checks                   # `world check` reads the manifest too
    assert [c.detail for c in run_checks(prod) if not c.ok] == []
    tamper(prod, lambda root: set_(root.definitions["counter"], "value", 99))
    inject(prod)
    with world.open(prod) as p:
        lines = [f.line() for f in findings(p.image.root)]
    assert lines == ["definition: counter: differs from the manifest of the build",
                     "definition: evil: is defined but the manifest of the build does not list it"]
    verify = [c for c in run_checks(prod) if c.name == "verify"]
    assert len(verify) == 1 and not verify[0].ok and "counter" in verify[0].detail
    tamper(prod, lambda root: root.definitions.pop("double"))
    with world.open(prod) as p:
        assert "definition: double: is in the manifest of the build but is not defined" in \
            [f.line() for f in findings(p.image.root)]


def test_save_dev_verifies_too(image: str, tmp_path: Path) -> None:
    make(image)
    change_value(image)
    with world.open(image) as w:
        with pytest.raises(Unverified, match="world/save-dev: refused"):
            save_dev(w, str(tmp_path / "d.fs"))
        with pytest.raises(world.LispError, match=":force takes #t or #f"):
            w.eval(f'(world/save-dev "{tmp_path / "d.fs"}" :force)')
        with pytest.raises(world.LispError, match="the only option is :force"):
            w.eval(f'(world/build-prod "{tmp_path / "d.fs"}" :human)')
        out = save_dev(w, str(tmp_path / "d.fs"), force=True)
    assert out["forced"] == 1


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def test_the_commands_refuse_in_one_line_and_force_is_visible(image: str, tmp_path: Path) -> None:
    make(image)
    clean = str(tmp_path / "clean.fs")
    r = cli("build-prod", image, clean, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli("history", "verify", "--world", clean, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("ok: production image"), r.stdout + r.stderr
    inject(image)
    for command in (("rebuild", "--from", "human"), ("build-prod",)):
        r = cli(*command, image, str(tmp_path / "no.fs"), cwd=tmp_path)
        assert r.returncode == 1 and r.stdout == "" and len(r.stderr.splitlines()) == 1
        assert "refused: the source does not verify: definition: evil" in r.stderr
    assert not (tmp_path / "no.fs").exists()
    r = cli("rebuild", "--from", "human", "--force", image, str(tmp_path / "f.fs"), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "forced over: definition: evil: is defined but no commit records it" in r.stdout
    r = cli("history", "verify", "--world", str(tmp_path / "f.fs"), cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith("forced: build: this image was built with --force")


def test_a_damaged_record_is_refused_in_one_line_even_when_forced(image: str, tmp_path: Path) -> None:
    make(image)
    with world.open(image) as w:
        seq = w.image.root.history.latest("double").seq
    tamper(image, lambda root: set_(root.history.commits[seq], "source",
                                    "(define (double x) (* 2 x)) ;MARKER-0123456789"))
    data = Path(image).read_bytes()
    at = data.rindex(b";MARKER-0123456789")
    Path(image).write_bytes(data[:at] + b"\x80\x80\x80\x80" + data[at + 4:])   # unpickling fails
    Path(image + ".index").unlink(missing_ok=True)
    for command in (("rebuild",), ("rebuild", "--force"), ("build-prod", "--force")):
        r = cli(*command, image, str(tmp_path / "no.fs"), cwd=tmp_path)
        assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, (command, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.startswith("error: ")
    assert not [p for p in os.listdir(tmp_path) if p.startswith("no.fs")]
