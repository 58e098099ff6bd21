"""R7RS reader directives (#!fold-case, #!no-fold-case) and datum labels (#n= / #n#):
shared structure reads as one value; a circular datum is refused, since the world's
values are acyclic by design."""
from __future__ import annotations

import pytest

import world
from world.lisp.errors import IncompleteInput, ReadError
from world.lisp.reader import is_complete, read_all


def ev(source: str) -> str:
    return world.write(world.open(out=lambda t: None).eval(source))


def read_error(text: str) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_all(text)
    assert "\n" not in str(info.value)
    return info.value


def test_fold_case_folds_identifiers_and_character_names():
    forms = read_all("#!fold-case (ABC #\\SPACE #\\A |Foo| :Kw \"Str\") #!no-fold-case ABC")
    assert world.write(forms[0]) == '(abc #\\space #\\A Foo :kw "Str")'
    assert world.write(forms[1]) == "ABC"


def test_fold_case_in_evaluation():
    assert ev("#!fold-case\n(eq? 'ABC 'abc)") == "#t"
    assert ev("#!fold-case #!no-fold-case (eq? 'ABC 'abc)") == "#f"


def test_fold_case_defines_folded_names():
    w = world.open(out=lambda t: None)
    w.eval("#!fold-case (define (Twice X) (* 2 x))")
    assert world.write(w.eval("(twice 4)")) == "8"


def test_labels_share_one_value():
    assert ev("(let ((x '(#0=(1 2) #0#))) (eq? (car x) (cadr x)))") == "#t"
    assert ev("'(#1=abc #1# #01#)") == "(abc abc abc)"
    assert ev("'[#0=(a) #0# #1=[#0#] #1#]") == "[(a) (a) [(a)] [(a)]]"
    assert ev("'(#0=a . #0#)") == "(a . a)"


def test_labels_are_per_form():
    with pytest.raises(ReadError, match="not defined"):
        read_all("'#0=(1) '#0#")


def test_circular_datum_is_refused():
    e = read_error("'#0=(a b #0#)")
    assert "circular" in str(e) and "1:" in str(e)
    assert "circular" in str(read_error("#0=[1 #0#]"))
    assert "circular" in str(read_error("#0=(a . #0#)"))


def test_bad_labels():
    assert "not defined" in str(read_error("'(#5#)"))
    assert "too large" in str(read_error("#" + "9" * 5000 + "=1"))
    assert "too large" in str(read_error("#" + "9" * 5000 + "#"))
    assert "bad # syntax" in str(read_error("#0#x"))
    with pytest.raises(IncompleteInput, match="#0="):
        read_all("#0=")
    assert not is_complete("'(#0=")


def test_circular_refused_in_evaluation():
    from world.lisp.errors import LispError
    with pytest.raises(LispError, match="circular"):
        world.open(out=lambda t: None).eval("(define x '#0=(1 . #0#))")
