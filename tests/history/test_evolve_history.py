"""Changes to the evolving evaluator are atomic commits of their own kinds,
and every kind of rebuild remakes them."""
from __future__ import annotations

from pathlib import Path

import world
from world.build import rebuild
from world.history.order import components


def test_evaluator_changes_are_recorded_and_rebuilt(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        assert w.eval("(eval-in my-eval '(+ 1 2))") == 3          # installs the seed on first use
        w.eval("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))")
        w.eval("(defnative! cube (x) (* x x x))")
        hist = w.image.root.history
        assert hist.latest("my-eval").kind == "extend-eval"
        assert hist.latest("my-eval").source.startswith("(extend-eval! 'twice")
        assert hist.latest("cube").kind == "defnative"
        w.eval('(commit "an evaluator that doubles")')
        reports = {mode: rebuild(w, str(tmp_path / f"{mode}.fs"), mode) for mode in ("atomic", "human")}
        reports["prod"] = rebuild(w, str(tmp_path / "prod.fs"), production=True)
    for mode, r in reports.items():
        assert r.ok, (mode, r.mismatches[:2], r.errors[:2])
        with world.open(r.dest) as d:
            assert d.eval("(eval-in my-eval '(twice 21))") == 42 and d.eval("(cube 3)") == 27


def test_components_keep_cycles_together() -> None:
    comps = components([{1}, {0}, {1}, set()])
    assert sorted(sorted(c) for c in comps) == [[0, 1], [2], [3]]
    assert comps.index([1, 0]) < comps.index([2])           # a component comes before its users
