"""The language core's evaluator table, run through my-eval as well as the ground.

Every case of tests/lisp/test_eval.py whose evaluated forms stay inside what
the seed my-eval claims (numbers, strings, booleans, symbols, quote, if,
define, lambda, let, begin, cond and application) runs in a world whose
top-level forms go through my-eval, and must give the ground's answer: the
same printed value, or for an error the same error class. my-eval does no
syntax checking, so the cases the ground refuses as syntax errors are not
run through it; error cases the core table marks as ground bugs keep their
mark (non-strict here, since my-eval's procedures are ground procedures).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

import world
from world.lisp.analyze import SPECIAL
from world.lisp.errors import LispError, LispSyntaxError, ReadError
from world.lisp.reader import read_all
from world.lisp.types import LispMap, Pair, Symbol

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("lisp_eval_table", ROOT / "tests/lisp/test_eval.py")
TABLE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TABLE)

CLAIMED = {Symbol(n) for n in ("quote", "if", "define", "lambda", "let", "begin", "cond")}


def _plain(case: Any) -> tuple[Any, Any, bool]:
    """(source, expected, marked-as-a-ground-bug) of a table row."""
    if hasattr(case, "values"):
        return case.values[0], case.values[1], True
    return case[0], case[1], False


def claimed(form: Any) -> bool:
    """Does evaluating `form` use only forms the seed my-eval handles?"""
    if type(form) is tuple:
        return all(not isinstance(x, (Pair, Symbol, tuple, LispMap)) for x in form)
    if type(form) is LispMap:
        return all(not isinstance(x, (Pair, Symbol, tuple, LispMap))
                   for kv in form.items() for x in kv)
    if type(form) is not Pair:
        return True
    head = form.car
    if type(head) is Symbol and head in SPECIAL:
        if head not in CLAIMED:
            return False
        if head.name == "quote":
            return True
    x = form
    while type(x) is Pair:
        if not claimed(x.car):
            return False
        x = x.cdr
    return True


def _source_claimed(source: str) -> bool:
    try:
        return all(claimed(f) for f in read_all(source))
    except LispError:
        return False


VALUES = [_plain(c) for c in TABLE.SPECIAL_FORMS + TABLE.ARGUMENT_POSITION + TABLE.DATA]
VALUE_CASES = [(s, e) for s, e, _ in VALUES if _source_claimed(s)]
ERROR_CASES = [pytest.param(s, e, marks=pytest.mark.xfail(reason="ground bug", strict=False))
               if bug else (s, e)
               for s, e, bug in (_plain(c) for c in TABLE.ERRORS)
               if _source_claimed(s) and e not in (ReadError, LispSyntaxError)]

# Ground bugs (xfail in the core's table) that my-eval does not share.
GROUND_ONLY_BUGS = {s for s, _, bug in VALUES if bug}


def through_my_eval(source: str) -> Any:
    """Evaluate `source` in a fresh world whose top-level forms go through my-eval."""
    w = world.open()
    w.eval("(set-eval-mode! 'my-eval)")
    return w.eval(source)


def test_the_table_is_not_empty() -> None:
    assert len(VALUE_CASES) > 150 and len(ERROR_CASES) > 15


@pytest.mark.parametrize("source, expected", VALUE_CASES)
def test_value_through_my_eval(source: str, expected: str) -> None:
    assert world.write(through_my_eval(source)) == expected


@pytest.mark.parametrize("source, expected", [c for c in VALUE_CASES if c[0] not in GROUND_ONLY_BUGS])
def test_value_through_the_ground(source: str, expected: str) -> None:
    assert world.write(world.open().eval(source)) == expected


@pytest.mark.parametrize("source, error", ERROR_CASES)
def test_error_through_my_eval(source: str, error: type) -> None:
    with pytest.raises(LispError) as info:
        through_my_eval(source)
    assert isinstance(info.value, error), f"{type(info.value).__name__}: {info.value}"
    assert str(info.value).count("\n") == 0


def test_my_eval_is_used() -> None:
    """The mode really routes through my-eval: a special form only my-eval knows works."""
    w = world.open()
    w.eval("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))")
    with pytest.raises(LispError):
        w.eval("(twice 4)")
    w.eval("(set-eval-mode! 'my-eval)")
    assert w.eval("(twice 4)") == 8
    assert w.eval("(eval-mode)") == Symbol("my-eval")
    w.eval("(set-eval-mode! 'ground)")
    assert w.eval("(eval-mode)") == Symbol("ground")


def test_forms_my_eval_does_not_handle_run_on_the_ground_in_my_eval_mode() -> None:
    w = world.open()
    w.eval("(set-eval-mode! 'my-eval)")
    assert w.eval("(defmacro m (x) x) (define-record pt x y) (pt-x (make-pt 1 2))") == 1
    assert w.eval("(do ((i 0 (+ i 1))) ((= i 3) i))") == 3
    assert w.eval("(defnative! sq (x) (* x x)) (sq 3)") == 9
    with pytest.raises(LispError, match="unbound variable: do"):
        w.eval("(let () (do ((i 0 (+ i 1))) ((= i 3) i)))")
