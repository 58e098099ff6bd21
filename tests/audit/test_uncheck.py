"""`(uncheck 'name)` forgets a name's checks (as a commit); breaking a check is reported."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.build import rebuild
from world.lisp.errors import EvalError, LispError
from world.lisp.types import to_pylist

from history_helpers import kw

SQ = '(define (sq x) "Square." (* x x))'


def _kinds(w: world.World, name: str) -> list[str]:
    return [world.write(kw(m, "kind")) for m in to_pylist(w.eval(f"(history/log '{name})"))]


def test_uncheck_removes_the_checks_and_is_a_commit(image: str) -> None:
    with world.open(image) as w:
        w.eval(SQ)
        w.eval("(check 10 (sq 3)) (check 4 (sq 2)) (check 1 1)")
        assert kw(w.eval("(audit/run)"), "failed") == 1
        assert w.eval("(uncheck 'sq)") == 2
        assert kw(w.eval("(audit/run)"), "failed") == 0 and kw(w.eval("(audit/run)"), "passed") == 1
        assert _kinds(w, "sq") == ["uncheck", "define"]
        c = w.image.root.history.latest("sq")
        assert (c.kind, c.source) == ("uncheck", "(uncheck 'sq)")
        assert w.eval("(sq 5)") == 25           # the definition itself is untouched
        assert w.eval("(uncheck 'sq)") == 0     # again: nothing left, no second commit
        assert _kinds(w, "sq") == ["uncheck", "define"]
    with world.open(image) as w:
        assert len(w.image.root.audit.checks) == 1
        assert not w.image.root.audit.against(["sq"])
        assert kw(w.eval("(audit/run)"), "failed") == 0


def test_uncheck_refuses_what_it_cannot_name(image: str) -> None:
    with world.open(image) as w:
        with pytest.raises(EvalError, match="nothing is named nope"):
            w.eval("(uncheck 'nope)")
        with pytest.raises(LispError, match="quoted name"):
            w.eval('(uncheck "sq")')


def test_a_wrong_check_blocks_build_prod_until_unchecked(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval(SQ)
        w.eval("(check 10 (sq 3))")
        w.eval('(commit "squares")')
        assert not rebuild(w, str(tmp_path / "p1.fs"), "human", production=True).ok
        w.eval("(uncheck 'sq)")
        w.eval('(commit "the check was wrong")')
        for mode, prod, dest in (("human", True, "p2.fs"), ("human", False, "h.fs"),
                                 ("atomic", False, "a.fs")):
            report = rebuild(w, str(tmp_path / dest), mode, production=prod)
            assert report.ok, (mode, report.errors, report.mismatches, report.failed_checks)
    with world.open(str(tmp_path / "p2.fs")) as p:
        assert p.eval("(sq 3)") == 9
    with world.open(str(tmp_path / "a.fs")) as a:          # replayed like any commit
        assert _kinds(a, "sq") == ["uncheck", "define"]
        assert a.eval("(history/verify)") is True


def test_a_redefinition_breaking_a_check_is_reported_not_refused(image: str) -> None:
    seen: list[str] = []
    with world.open(image, out=seen.append) as w:
        w.eval(SQ)
        w.eval("(check 9 (sq 3))")
        w.eval('(define (helper) (sq 2))')
        w.eval("(check 4 (helper))")
        seen.clear()
        r = w.eval_form(world.read('(define (sq x) "Square." (+ x x))'))
        assert w.eval("(sq 3)") == 6                       # the definition took effect
        text = "".join(seen)
        assert text == r.output
        assert "warning: check 1 fails: (sq 3) should be 9, got 6" in text
        assert "(uncheck 'sq)" in text
        assert "(helper)" not in text                       # 4 = (+ 2 2): still passes
        assert r.host > 0                                   # re-running is the form's work
        seen.clear()
        w.eval('(define (sq x) "Square." (* x x))')
        assert seen == []                                   # fixed: nothing to report
        w.eval('(define (sq x) "Square." (car x))')
        assert "check 1 fails: (sq 3) should be 9, error:" in "".join(seen)


def test_rechecking_never_outspends_the_form(image: str) -> None:
    seen: list[str] = []
    with world.open(image, out=seen.append) as w:
        w.eval('(define (spin n) "Count down." (if (= n 0) 0 (spin (- n 1))))')
        w.eval("(check 0 (spin 100000))")
        seen.clear()
        w.eval_form(world.read('(define (spin n) "Count down." (if (< n 1) 0 (spin (- n 1))))'),
                    steps=20_000)
        assert "check 1 fails" in "".join(seen) and "budget" in "".join(seen)
        assert w.eval("(spin 3)") == 0
