"""`world inspect`, `world snapshots`, `world save`, `world restore` as commands."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import world

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.fixture(name="img")
def img_fixture(tmp_path):
    path = tmp_path / "world.fs"
    with world.open(path) as w:
        w.eval('(define (sq x) "Square." (* x x)) (define (quad x) (sq (sq x)))')
    return str(path)


def test_inspect_a_name_as_text_and_json(img):
    p = cli("inspect", "sq", "--world", img)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "{sq define 11 entries}"
    assert '├─ :doc "Square."' in p.stdout and "└─ [0] quad" in p.stdout
    p = cli("inspect", "sq", "--world", img, "--json")
    data = json.loads(p.stdout)
    assert data["doc"] == "Square." and data["callers"] == ["quad"]
    assert data["source"] == '(define (sq x) "Square." (* x x))'
    assert data["value"] == "#<procedure sq>"


def test_inspect_topics_and_expressions(img):
    data = json.loads(cli("inspect", ":world", "--world", img, "--json").stdout)
    assert data["definitions"] == 2 and data["path"] == img and data["pending-commits"] == 2
    data = json.loads(cli("inspect", ":history", "--world", img, "--json").stdout)
    assert data["pending"] == 2 and [c["symbol"] for c in data["recent"][:2]] == ["quad", "sq"]
    bare = json.loads(cli("inspect", "history", "--world", img, "--json").stdout)
    assert bare["pending"] == 2                     # a topic's bare name means the topic
    assert json.loads(cli("inspect", "lineages", "--world", img, "--json").stdout) == \
        json.loads(cli("inspect", ":lineages", "--world", img, "--json").stdout)
    p = cli("inspect", "(sq 3)", "--world", img)
    assert p.stdout.splitlines() == ["{integer 2 entries}", '├─ :type "integer"', "└─ :value 9"]


def test_inspect_errors_are_one_line(img):
    p = cli("inspect", "nope", "--world", img)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert lines[0].endswith("inspect: nope is not defined")
    assert "Traceback" not in p.stderr


def test_save_snapshots_restore(img):
    p = cli("save", "before", "--world", img, "--note", "two procedures")
    assert p.returncode == 0 and p.stdout.startswith("saved snapshot before (2 definitions)")
    with world.open(img) as w:
        w.eval("(define (sq x) 0) (define extra 1)")
    p = cli("snapshots", "--world", img)
    assert p.stdout.startswith("before  ") and p.stdout.rstrip().endswith(
        "2 definitions  two procedures")
    snaps = json.loads(cli("snapshots", "--world", img, "--json").stdout)
    assert [s["name"] for s in snaps] == ["before"]
    p = cli("restore", "before", "--world", img)
    assert p.returncode == 0 and p.stdout.startswith("restored snapshot before")
    with world.open(img) as w:
        assert w.eval("(sq 5)") == 25 and "extra" not in w.names.defs


def test_restore_of_an_unknown_snapshot(img):
    p = cli("restore", "nope", "--world", img, "--json")
    assert p.returncode == 1 and "no snapshot named 'nope'" in p.stderr


def test_no_snapshots(img):
    assert cli("snapshots", "--world", img).stdout == "no snapshots\n"
