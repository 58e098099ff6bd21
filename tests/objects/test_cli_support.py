"""Choosing a world from command-line flags and the environment."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

import world
from world.lisp.env import Environment
from world.lisp.primitives import OWNER
from world.lisp.reader import read
from world.lisp.runtime import run
from world.objects.cli_support import (DEFAULT_IMAGE, add_serve_args, add_world_args,
                                       image_path, open_from_args)


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_world_args(p)
    return p.parse_args(argv)


def test_the_image_path_comes_from_the_flag_then_the_environment_then_the_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_IMAGE", raising=False)
    assert image_path(_args()) == DEFAULT_IMAGE == os.path.join("images", "world.fs")
    monkeypatch.setenv("WORLD_IMAGE", "/tmp/elsewhere.fs")
    assert image_path(_args()) == "/tmp/elsewhere.fs"
    assert image_path(_args("--world", "mine.fs")) == "mine.fs"


def test_open_from_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORLD_IMAGE", raising=False)
    with open_from_args(_args()) as w:
        w.eval("(define x 1)")
    assert (tmp_path / "images" / "world.fs").exists()
    with open_from_args(_args("--read-only")) as w:
        assert w.eval("x") == 1 and w.info()["read-only"]
    w = open_from_args(_args("--memory"))
    assert w.info()["path"] == "<memory>"
    with pytest.raises(SystemExit):
        _args("--memory", "--world", "x.fs")


def test_serve_args() -> None:
    p = argparse.ArgumentParser()
    add_serve_args(p)
    a = p.parse_args(["--address", "127.0.0.1:9000"])
    assert (a.world, a.address) == (None, "127.0.0.1:9000")


def test_a_world_adopts_a_bare_environment() -> None:
    env = Environment(OWNER)
    run(env, read('(define (f) "Doc." 5)'))
    w = world.World(env)
    assert w.eval("(f)") == 5 and w.info()["definitions"] == 1
    assert w.image.root.definitions["f"].doc == "Doc."


def test_a_storage_you_opened(tmp_path: Path) -> None:
    from ZODB.FileStorage import FileStorage
    path = str(tmp_path / "mine.fs")
    with world.open(storage=FileStorage(path)) as w:
        w.eval("(define (f) 'stored)")
        assert w.info()["path"] == path
    with world.open(path) as w:
        assert w.eval("(f)") == world.read("stored")


def test_relstorage_flag_excludes_the_others() -> None:
    assert _args("--relstorage", "dbname=w").relstorage == "dbname=w"
    with pytest.raises(SystemExit):
        _args("--relstorage", "dbname=w", "--zeo", "127.0.0.1:1")
