"""A new world breaks none of its own audit rules."""
from __future__ import annotations

import world
from world.history.record import SEED_MESSAGE, audit
from world.lisp.reader import read


def test_every_default_rule_commit_is_clean(image: str) -> None:
    with world.open(image) as w:
        hist = w.image.root.history
        rules = [c for c in hist.atomic() if c.kind == "defrule"]
        assert len(rules) == len(w.image.root.audit.rules) >= 9
        assert {c.symbol: c.violations for c in rules} == {c.symbol: () for c in rules}
        assert [h.message for h in hist.humans.values()] == [SEED_MESSAGE]


def test_each_default_rule_passes_all_of_them_whatever_the_order(image: str) -> None:
    with world.open(image) as w:
        for c in w.image.root.history.atomic():
            if c.kind == "defrule":
                assert audit(w, read(c.source), c.symbol, "defrule") == [], c.symbol


def test_the_exemptions_are_narrow(image: str) -> None:
    with world.open(image) as w:
        w.eval('(defrule odd-size :category :style :severity :info '
               ':when (lambda (m) (= (get m :body-length) 37)) :message "a body of just that size")')
        got = {v[0] for v in w.image.root.history.latest("odd-size").violations}
        assert got == {"magic-number"}                  # a number its message does not state
        w.eval('(define (temp m) "The temperature." (get m :temp))')
        got = {v[0] for v in w.image.root.history.latest("temp").violations}
        assert got == {"non-portable"}                  # a program's `get` is still an extension
