"""Format versions: an image written in an older layout opens and migrates."""
from __future__ import annotations

from typing import Any, Callable

import pytest

import world
from world.lisp.reader import read
from world.objects import ImageError
from world.objects.definitions import Definition
from world.objects.root import WorldRoot


def _v1_definition(self: Definition) -> dict[str, Any]:
    """The layout of format 1: the source as Lisp data, no version, no time."""
    return {"name": self.name, "kind": self.kind, "value": self.value, "doc": self.doc,
            "form": None if self.source is None else read(self.source)}


def _v1_root(self: WorldRoot) -> dict[str, Any]:
    """The layout of format 1: no generation counter and no settings."""
    return {k: v for k, v in self.__dict__.items()
            if not k.startswith("_p_") and k not in ("generation", "settings")}


def _rewrite(image: str, monkeypatch: pytest.MonkeyPatch, **getstates: Callable) -> None:
    """Store every definition and the root again, with the given state functions."""
    with world.open(image) as w:
        with monkeypatch.context() as m:
            for cls, fn in ((Definition, getstates.get("definition")),
                            (WorldRoot, getstates.get("root"))):
                if fn is not None:
                    m.setattr(cls, "__getstate__", fn)
            w.image.begin()
            w.image.root._p_changed = True
            for tree in (w.image.root.definitions, w.image.root.macros):
                for d in tree.values():
                    d._p_changed = True
            w.image.commit("rewrite in another format")


def _raw_records(image: str) -> list[bytes]:
    from ZODB.FileStorage import FileStorage
    st = FileStorage(image, read_only=True)
    try:
        return [st.load(oid)[0] for oid in st._index.keys()]
    finally:
        st.close()


def test_an_old_format_image_migrates_on_load(image: str, monkeypatch: pytest.MonkeyPatch,
                                              run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval('(define (sq x) "Square." (* x x)) (define b (box 2)) '
               "(defmacro unless2 (c e) `(if ,c #f ,e))")
    _rewrite(image, monkeypatch, definition=_v1_definition, root=_v1_root)
    defs = [r for r in _raw_records(image) if b"Definition" in r[:60]]
    assert len(defs) == 3 and all(b"format_version" not in r and b"form" in r for r in defs)
    out = run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        d = w.image.root.definitions["sq"]
        print(d.source, d.version, d.doc, w.image.root.generation.value >= 0)
        print(world.write(w.eval("(list (sq (unbox b)) (unless2 #f 5))")))
        w.eval("(define c 1)")
        """, image)
    assert out.splitlines() == ['(define (sq x) "Square." (* x x)) 1 Square. True', "(4 5)"]
    defs = [r for r in _raw_records(image) if b"Definition" in r[:60]]
    assert len(defs) == 4 and all(b"format_version" in r and b"source" in r for r in defs)
    from ZODB.FileStorage import FileStorage
    st = FileStorage(image, read_only=True)
    notes = [t.description.decode() for t in st.iterator()]
    st.close()
    # Objects migrate as they load (definitions load when first needed) and are written once.
    counts = [int(n.split()[2]) for n in notes if n.startswith("world: migrate ")]
    assert sum(counts) == 4 and counts[0] >= 2, notes


def test_an_image_from_a_newer_release_is_refused(image: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with world.open(image) as w:
        w.eval("(define x 1)")

    def future(self: Any) -> dict[str, Any]:
        return {**self.__dict__, "format_version": 99}
    _rewrite(image, monkeypatch, definition=future, root=future)
    with pytest.raises(ImageError, match="format 99, newer than this release"):
        world.open(image)
    with pytest.raises(ImageError):       # refused again: the failed open changed nothing
        world.open(image)


def test_a_newer_definition_is_refused_when_it_loads(image: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with world.open(image) as w:
        w.eval("(define x 1) (define y 2)")

    def future(self: Definition) -> dict[str, Any]:
        state = {**self.__dict__, "format_version": 99 if self.name == "x" else 2}
        return state
    _rewrite(image, monkeypatch, definition=future)
    before = open(image, "rb").read()
    with world.open(image) as w:
        assert w.eval("y") == 2
        with pytest.raises(ImageError, match="definition of x cannot be loaded: .*format 99") as e:
            w.eval("(+ x 1)")
        assert image in str(e.value) and "\n" not in str(e.value)
        assert w.eval("y") == 2
    assert open(image, "rb").read() == before
