"""Prose is never evaluated: replies written as Claude writes them (prose with
parentheses, fenced code, several fences, inline code, no fence with forms on
lines of their own), and a run through the real SDK where notes on a reply
cost no cell."""
from __future__ import annotations

import pytest

import world
from messages_server import good
from world.evolve import run as R
from world.evolve.extract import extract

FACT = "(define (fact n)\n  (if (= n 0) 1 (* n (fact (- n 1)))))"

CASES = [
    # reply, forms taken (as written), words each note must contain (in order)
    ("I'll recurse (the base case is n = 0) and multiply on the way back.\n\n"
     f"{FACT}\n\n(done (fact 5))", [FACT, "(done (fact 5))"], []),
    ("(the base case is n = 0) so the recursion stops there.", [], ["held no form"]),
    ("Let me think about this (carefully).\n\n```lisp\n(define (sq x) (* x x))\n(done (sq 3))\n```\n\n"
     "This works because (sq 3) is 9.", ["(define (sq x) (* x x))", "(done (sq 3))"], []),
    ("First a helper:\n```scheme\n(define (sq x) (* x x))\n```\nThen a check and the answer:\n"
     "```lisp\n(check 9 (sq 3))\n(done (sq 3))\n```\n",
     ["(define (sq x) (* x x))", "(check 9 (sq 3))", "(done (sq 3))"], []),
    ("The output should look like:\n```text\n(1 2 3)\n```\nSo:\n```\n(done (list 1 2 3))\n```",
     ["(done (list 1 2 3))"], []),
    ("Calling `(sq 3)` gives 9, so\n(done (sq 3))", ["(done (sq 3))"], []),
    ("`(sq 3)`\n(done 9)", ["(done 9)"], []),
    ("`(1 ,(+ 1 1))", ["`(1 ,(+ 1 1))"], []),
    ("(define x 1) (define y 2) ; two at once\n  (done (+ x y))\n",
     ["(define x 1)", "(define y 2)", "(done (+ x y))"], []),
    ("Steps:\n1. (define (f) 1)\n2. (done (f))", [], ["held no form"]),
    ("Here goes:\n```lisp\n(define (f) 1)\n(done (f))", ["(define (f) 1)", "(done (f))"], []),
    ("```lisp\n(define (f) 1)\nthen call it\n(done (f))\n```",
     ["(define (f) 1)", "(done (f))"], ["prose in a code block"]),
    ("(note: the helper is below)\n```lisp\n(done 1)\n```", ["(done 1)"], []),
    ("I think this works:\n(define (f x) (* x 2)\n(done (f 2))", [], ["unbalanced", "no readable form"]),
    ("(define (f) 1)\n(g . . h)\n", ["(define (f) 1)"], ["could not be read"]),
    ("Nothing to add.", [], ["held no form"]),
]


@pytest.mark.parametrize("reply,forms,notes", CASES)
def test_prose_is_never_evaluated(reply, forms, notes):
    got = extract(reply)
    assert [world.write(f) for f, _ in got.forms] == [world.write(world.read(t)) for t in forms]
    assert len(got.notes) == len(notes), got.notes
    for note, word in zip(got.notes, notes):
        assert word in note
    assert "\n" not in got.feedback()


def test_forms_keep_their_text_across_lines():
    got = extract(f"Here:\n{FACT}\n")
    assert got.forms[0][1] == FACT


FACTORIAL = FACT.replace("fact", "factorial")      # the pool's problem 1
REPLIES = [
    # turn 0: prose with parentheses around a fence, and a note-worthy slip inside it
    "I'll define factorial (the base case is n = 0), then check it.\n\n```lisp\n"
    f"{FACTORIAL}\nthis line is not code\n(check 6 (factorial 3))\n```\n\nThat should (hopefully) work.",
    # turn 1: no fence, prose lines that start with a parenthesis, forms on lines of their own
    "(the check passed) so now I submit.\n\n(done (factorial 5))\n",
]


def test_notes_on_a_reply_cost_no_cell_and_prose_makes_none(tmp_path, server):
    replies = iter(REPLIES)
    server.default = lambda body: good(next(replies, "(done 0)") if "Problem" in
                                       body["messages"][-1]["content"] else '(note "no change")')
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="prose", lineages=1, rounds=1, per_round=1,
                      problems=(1,), reflection_turns=1)
        att = run.generations[1].lineages[0].rounds[1].attempts[0]
        cells = [(c.kind, c.expr) for c in att.cells.values()]
        assert att.solved, cells
        assert cells == [("CODE", FACTORIAL), ("CHECK", "(check 6 (factorial 3))"),
                         ("DONE", "(done (factorial 5))")]
        t0, t1 = att.turns[0], att.turns[1]
        assert "prose in a code block" in t0.notes and t1.notes == ""
        assert "About your last reply" in t1.prompt and "this line is not code" in t1.prompt


def test_a_long_parenthetical_in_prose_is_read_once_and_skipped():
    """A line of prose skips the forms it began, so no text is scanned twice."""
    reply = "(\n" * 20_000 + ")\n" * 19_999 + ") and so on\n(done 1)\n"
    got = extract(reply)
    assert [world.write(f) for f, _ in got.forms] == ["(done 1)"] and got.notes == []
