"""Extracting forms from model replies: a table of reply, forms taken, notes."""
from __future__ import annotations

import pytest

import world
from world.evolve.extract import extract

CASES = [
    # reply, forms as written, words each note must contain (in order)
    ("(define (sq x) (* x x)) (done (sq 3))",
     ["(define (sq x) (* x x))", "(done (sq 3))"], []),
    ("Here is my answer:\n(define (f) 1)\nThat should work.",
     ["(define (f) 1)"], []),
    ("```lisp\n(define (f) \"a (paren\")\n(done (f))\n```\nThe (parenthesised) prose is ignored.",
     ['(define (f) "a (paren")', "(done (f))"], []),
    ("(define (f x) (+ x 1)", [], ["unbalanced form", "no readable form"]),
    ("(f 1) (g 2", ["(f 1)"], ["unbalanced"]),
    ("I cannot solve this.", [], ["held no form"]),
    ("", [], ["held no form"]),
    ("(a) (b) (c) (d) (e) (f) (g)", ["(a)", "(b)", "(c)", "(d)", "(e)"], ["2 more were dropped"]),
    ("(check '(1 2) (list 1 2)) ; a comment (ignored)\n", ["(check (quote (1 2)) (list 1 2))"], []),
    ("(list #\\( #\\))", ["(list #\\( #\\))"], []),
    ("(a . . b)", [], ["could not be read", "no readable form"]),
    ("'(1 2)", ["(quote (1 2))"], []),
]


@pytest.mark.parametrize("reply,forms,notes", CASES)
def test_extract(reply, forms, notes):
    got = extract(reply)
    assert [world.write(f) for f, _ in got.forms] == [world.write(world.read(t)) for t in forms]
    assert len(got.notes) == len(notes), got.notes
    for note, word in zip(got.notes, notes):
        assert word in note
    assert ("\n" not in got.feedback())


def test_forms_keep_their_text():
    got = extract("ok:\n(define (f x)\n  (* x 2))")
    assert got.forms[0][1] == "(define (f x)\n  (* x 2))"
