"""Rebuilding and building production images from Lisp, and opening an image
written before history existed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import world
from world.objects.root import WorldRoot

from history_helpers import kw


def test_rebuild_and_build_prod_from_lisp(image: str, tmp_path: Path) -> None:
    dest, prod = str(tmp_path / "dest.fs"), str(tmp_path / "prod.fs")
    with world.open(image) as w:
        w.eval('(define (f) 1) (check 1 (f)) (commit "f")')
        r = w.eval(f'(world/rebuild "{dest}" :human)')
        assert kw(r, "ok") is True and kw(r, "checks-passed") == 1
        assert world.write(kw(r, "mode")) == ":human"
        p = w.eval(f'(world/build-prod "{prod}")')
        assert kw(p, "production") is True and 0 < kw(p, "size") < kw(p, "source-size")
        with pytest.raises(world.LispError, match=":atomic or :human"):
            w.eval(f'(world/rebuild "{tmp_path / "x.fs"}" :sideways)')
    with world.open(dest) as d:
        assert d.eval("(f)") == 1


def _v2_root(self: WorldRoot) -> dict[str, Any]:
    """The layout of format 2: no history and no audit store."""
    state = {k: v for k, v in self.__dict__.items()
             if not k.startswith("_p_") and k not in ("history", "audit")}
    state["format_version"] = 2
    return state


def test_an_image_from_before_history_gets_one(image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with world.open(image) as w:
        w.eval("(define (old) 1)")
        with monkeypatch.context() as m:
            m.setattr(WorldRoot, "__getstate__", _v2_root)
            w.image.begin()
            w.image.root._p_changed = True
            w.image.commit("rewrite as format 2")
    with world.open(image) as w:
        hist = w.image.root.history
        assert hist is not None and hist.latest("old").source == "(define (old) 1)"   # adopted as it is
        assert w.eval("(old)") == 1
        w.eval("(define (new) 2)")
        assert hist.latest("new").source == "(define (new) 2)"
        assert w.eval("(history/verify)") is True
        assert len(w.image.root.audit.rules) >= 9
