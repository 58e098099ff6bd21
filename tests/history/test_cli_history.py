"""The history and audit subcommands of `world`, run as a real process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import world

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def make(path: str) -> None:
    with world.open(path) as w:
        w.eval("(define (f x) (* x 2))\n(define (g) (f 21))")
        w.eval("(check 42 (g))")
        w.eval('(commit "f and g")')
        w.eval("(define (f x)\n  (* x 3))")


def test_history_commands(tmp_path: Path) -> None:
    src = str(tmp_path / "a.fs")
    make(src)
    r = cli("history", "log", "f", "--world", src, cwd=tmp_path)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 2 and " f " in r.stdout
    assert "pending" in r.stdout.splitlines()[0]
    r = cli("history", "pending", "--world", src, cwd=tmp_path)
    assert r.stdout.split()[4] == "f"
    r = cli("history", "diff", "f", "--world", src, cwd=tmp_path)
    assert "+  (* x 3))" in r.stdout
    r = cli("history", "verify", "--world", src, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("ok: 12 atomic commits, 2 human commits")
    r = cli("history", "show", "--world", src, cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.strip() == "error: history show: give a commit id"
    r = cli("build-prod", src, str(tmp_path / "p.fs"), cwd=tmp_path)
    assert r.returncode == 1 and "pending for f" in r.stderr and "Traceback" not in r.stderr
    r = cli("commit", "f times three", "f", "--world", src, cwd=tmp_path)
    assert r.returncode == 0 and "f times three (1 atomic commits)" in r.stdout
    r = cli("history", "milestones", "--world", src, cwd=tmp_path)
    assert r.stdout.splitlines()[-1].endswith("f times three (1 atomic)")


def test_rebuild_build_prod_dump_and_audit(tmp_path: Path) -> None:
    src = str(tmp_path / "a.fs")
    make(src)
    with world.open(src) as w:
        w.eval('(define (g) (f 14)) (commit "g again")')
    r = cli("rebuild", "--from", "atomic", src, str(tmp_path / "r.fs"), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checks: 1 passed, 0 failed" in r.stdout
    r = cli("build-prod", src, str(tmp_path / "p.fs"), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    size_line = r.stdout.splitlines()[-1]
    assert size_line.startswith("size: production ") and "development" in size_line
    with world.open(str(tmp_path / "p.fs")) as p:
        assert p.eval("(g)") == 42
    r = cli("dump", src, str(tmp_path / "dump"), cwd=tmp_path)
    assert r.stdout.strip().endswith("world.lisp")
    fresh = str(tmp_path / "fresh.fs")                 # `world run` on the dump into an empty image
    r = cli("run", r.stdout.strip(), "--world", fresh, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with world.open(src) as a, world.open(fresh) as b:
        assert {n: d.source for n, d in a.image.root.definitions.items()} == \
            {n: d.source for n, d in b.image.root.definitions.items()}
        assert b.eval("(g)") == 42
    r = cli("audit", "--world", src, cwd=tmp_path)
    assert "findings over" in r.stdout and "category documentation" in r.stdout
    r = cli("audit", "rules", "--world", src, cwd=tmp_path)
    assert "complex" in r.stdout
    with world.open(src) as w:
        w.eval("(define (f x) x)")
    r = cli("audit", "run", "--world", src, cwd=tmp_path)
    assert r.returncode == 1 and "failed: (g) expected 42" in r.stdout
