"""The owner's world in my-eval mode finds its stored definitions after a reopen."""
from __future__ import annotations

import world


def test_stored_helpers_are_found_by_my_eval_after_reopen(tmp_path):
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        w.eval("(set-eval-mode! 'my-eval)")
        w.eval("(define (sq x) (* x x))")
        w.eval("(define (f y) (+ 1 (sq y)))")
    with world.open(path) as w:
        assert w.eval("(eval-mode)") == world.read("my-eval")
        assert w.eval("(f 5)") == 26                    # f, then sq, bound on demand
        assert w.eval("(begin (define (g y) (sq y)) (g 3))") == 9
    with world.open(path) as w:
        assert w.eval("(g 4)") == 16
