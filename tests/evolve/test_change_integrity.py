"""Integrity of evaluator changes: only readable canonical source is adopted (a
procedure value is told to quote it), a lineage whose stored evaluator cannot
be read fails alone, step bonuses go only to changes that make my-eval do
something new, and the sanity tests hold the core table and the lineage's own
solved problems (regression), charged to the lineage."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from messages_server import good
from world.evolve import run as R
from world.evolve.evaluator import EvalRefused
from world.evolve.lineage import evolve_root
from world.evolve.report import lineages_view, summary
from world.evolve.slot import SETTINGS_KEY, world_slot
from world.lisp.types import Symbol, make_list, to_pylist

TWICE = "(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))"
TWICE_LIVE = "(extend-eval! 'twice (lambda (expr env) (* 2 (my-eval (cadr expr) env))))"
FACTORIAL = "(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))"


def cells(attempt):
    return [(c.kind, c.result) for c in attempt.cells.values()]


def _slot(w):
    return world_slot(w.image.root)


# ---------------------------------------------------------------- readable source only

@pytest.mark.parametrize("form, words", [
    (TWICE_LIVE, ["procedure value", "quote it", "(extend-eval! 'twice '(lambda (expr env)"]),
    ("(extend-eval! 'twice (list 'lambda '(expr env) car))", ["procedure value", "quote it"]),
    ("(extend-eval! 'twice `(lambda (expr env) (,(lambda (x) x) 1)))", ["procedure value"]),
    ("(edit-eval! (lambda (expr env) 1))", ["expected (define (my-eval", "quote it"]),
    ("(edit-eval! (list 'define '(my-eval expr env) car))", ["procedure value", "quote it"]),
    ("(evolve/defnative! 'sq '(x) (list car))", ["procedure value"]),
])
def test_a_procedure_where_source_is_expected_is_refused_and_nothing_breaks(tmp_path: Path, form,
                                                                           words) -> None:
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        before = world.write(w.eval("(show-eval)"))
        with pytest.raises(EvalRefused) as info:
            w.eval(form)
        message = str(info.value)
        assert "\n" not in message and all(word in message for word in words), message
        assert world.write(w.eval("(show-eval)")) == before
        assert w.eval(TWICE) == 2               # later changes still work
    with world.open(path) as w:                 # and the world reopens with a readable evaluator
        assert w.eval("(eval-in my-eval '(twice 21))") == 42
        assert "#<" not in world.write(w.eval("(show-eval)"))


def test_a_tampered_slot_is_one_clear_error_not_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        w.eval(TWICE)
        _slot(w).version().source = "(define (my-eval expr env) #<procedure twice>)"
        w.image.tm.commit()
    with world.open(path) as w:
        with pytest.raises(Exception) as info:
            w.eval("(show-eval)")
        assert "cannot be read" in str(info.value) and "version 2" in str(info.value)
        assert w.eval("(eval-rollback! 1)") == 3    # the way out the message names
        assert w.eval("(eval-in my-eval '(+ 1 2))") == 3


# ---------------------------------------------------------------- the core table

SEED_CLAUSES = ("define", "cond", "let", "lambda", "begin", "quote")


def _without(seed: str, *names: str) -> str:
    """The seed my-eval with the cond clauses for `names` dropped."""
    form = world.read(seed)
    body = to_pylist(form.cdr.cdr)
    clauses = to_pylist(body[-1].cdr)
    kept = [c for c in clauses if not any(world.write(c.car).endswith(f"'{n})") for n in names)]
    assert len(kept) == len(clauses) - len(names)
    body[-1] = make_list([body[-1].car] + kept)
    return world.write(make_list([form.car, form.cdr.car] + body))


@pytest.mark.parametrize("names", [("define", "cond", "let"), *[(n,) for n in SEED_CLAUSES]])
def test_an_edit_that_drops_a_core_form_is_refused(names) -> None:
    w = world.open()
    seed = world.write(w.eval("(show-eval)"))
    edited = _without(seed, *names)
    with pytest.raises(EvalRefused) as info:
        w.eval(f"(edit-eval! '{edited})")
    assert "sanity test" in str(info.value)
    assert world.write(w.eval("(show-eval)")) == seed


# ---------------------------------------------------------------- bonuses for new behaviour

def test_only_changes_with_new_behaviour_earn() -> None:
    w = world.open()
    w.eval("(show-eval)")
    slot = _slot(w)
    earns = []
    changes = [TWICE] * 20 + [
        "(extend-eval! 'twice '(lambda (e env) (* 2 (my-eval (cadr e) env))))",      # renamed
        "(extend-eval! 'twice '(lambda (expr env) (+ 1 (my-eval (cadr expr) env))))",  # different
        TWICE,                                                                        # ping-pong
        "(extend-eval! 'unless '(lambda (expr env) (if (my-eval (cadr expr) env) #f "
        "(my-eval/body (cddr expr) env))))",                                          # new form
        "(eval-rollback! 1)",                                                         # a repeat
    ]
    for form in changes:
        mark = slot.last()
        w.eval(form)
        earns.append(slot.earned_since(mark))
    assert earns == [1] + [0] * 19 + [0, 1, 0, 1, 0]
    # the seed plus unless: new source, but all it does that is new was done before (v24)
    mark = slot.last()
    w.eval(changes[-2])
    assert slot.earned_since(mark) == 0 and slot.last() == mark + 1


# ---------------------------------------------------------------- regression tests

def test_a_change_that_breaks_a_solved_problem_is_refused_and_the_tests_cost_steps() -> None:
    w = world.open()
    w.eval(FACTORIAL)
    w.eval("(show-eval)")
    free = w.eval(TWICE) and w.last.steps
    slot = _slot(w)
    w.image.root.settings[SETTINGS_KEY].remember(1, "factorial", "(factorial 5)", "120")
    w.image.tm.commit()
    w.eval("(extend-eval! 'thrice '(lambda (expr env) (* 3 (my-eval (cadr expr) env))))")
    assert w.last.steps > free      # the regression test ran through the new my-eval, charged
    with pytest.raises(EvalRefused) as info:
        w.eval("(extend-eval! 'factorial '(lambda (expr env) 0))")
    message = str(info.value)
    assert "regression test (factorial 5) (problem 1, factorial, solved before)" in message
    # a solved problem that the current evaluator no longer passes (its helper was redefined)
    # is not held against a change
    w.eval("(define (factorial n) 0)")
    w.eval("(extend-eval! 'four '(lambda (expr env) 4))")
    assert slot.version().note == "add the special form four"


# ---------------------------------------------------------------- through the SDK

def _spam(body):
    """A model that sends the same extend-eval! over and over, and a procedure value once."""
    text = body["messages"][-1]["content"]
    if "Round 1 is over" in text:
        if "## Reflection so far\n(empty)" not in text:
            return good('(note "enough")')
        return good(f"{TWICE}\n{TWICE}\n{TWICE}")
    if "Problem 1 (" in text:
        if "## Scratchpad so far\n(empty)" in text:
            return good(f"{TWICE_LIVE}\n(show-eval)\n" + "\n".join([TWICE] * 3))
        if text.count("CODE") < 8:
            return good("\n".join([TWICE] * 5))
        return good(f"{FACTORIAL}\n(done (factorial 5))")
    if "Problem 2 (" in text:
        if "## Scratchpad so far\n(empty)" in text:   # breaks problem 1: refused
            return good("(extend-eval! 'factorial '(lambda (expr env) 0))\n"
                        "(extend-eval! 'thrice '(lambda (expr env) (* 3 (my-eval (cadr expr) env))))")
        return good("(define (rev-onto l a) (if (null? l) a (rev-onto (cdr l) (cons (car l) a))))\n"
                    "(define (rev l) (rev-onto l '()))\n(done (rev '(1 2 3 4)))")
    return good('(note "no change")')


def test_a_model_cannot_break_a_run_or_farm_bonuses(tmp_path: Path, server) -> None:
    server.default = _spam
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="spam", lineages=1, rounds=2, per_round=1,
                      problems=(1, 2), seed=3)
        lineage = run.generations[1].lineages[0]
        a1, refl, a2 = (lineage.rounds[1].attempts[0], lineage.rounds[1].reflection,
                        lineage.rounds[2].attempts[0])
        first = cells(a1)
        assert first[0][0] == "ERROR" and "quote it" in first[0][1]
        assert first[1][0] == "CODE" and "#<" not in first[1][1]       # show-eval still works
        assert a1.solved and a1.changes >= 8
        assert a1.bonus == 150 and a1.budget == 1500 + 150               # one bonus, not eight
        assert refl.changes == 3 and refl.bonus == 0                      # repeats earn nothing
        assert lineage.rounds[2].bonus == 0
        # problem 2: the change that breaks factorial is refused; the other pays for its check
        kind, result = cells(a2)[0]
        assert kind == "ERROR" and "regression test (factorial 5)" in result
        assert cells(a2)[1][0] == "CODE" and a2.solved and a2.bonus == 150
        assert a2.budget == 1200 + 150                                     # no reflection bonus
        assert a2.cells[1].steps > a1.cells[2].steps     # the same change, plus its regression test
        assert lineage.fitness["solved"] == 2 and "#<" not in lineage.evaluator
        row = lineages_view(w)["runs"][0]["generations"][0]["lineages"][0]
        assert row["status"] == "done" and not row["failure"]
        assert "lineages" in world.write(w.eval("(inspect :lineages)"))


def _interrupting(image_holder):
    def progress(event):
        if event.get("phase") == "problem-done" and not image_holder:
            image_holder.append(event["lineage"])
            raise KeyboardInterrupt     # the run stops as if killed after a problem
    return progress


def test_a_lineage_with_an_unreadable_evaluator_fails_alone_and_the_run_goes_on(tmp_path: Path,
                                                                             server) -> None:
    from agent_support import solving
    server.default = solving
    path = tmp_path / "w.fs"
    stopped: list[str] = []
    with world.open(path) as w:
        with pytest.raises(KeyboardInterrupt):
            R.start(w, agent="model", run_id="bad", lineages=2, rounds=2, per_round=1,
                    problems=(1, 2), progress=_interrupting(stopped))
    assert stopped == ["g1-L0"]
    with world.open(path) as w:                 # tamper: the lineage's slot holds a live value
        lineage = evolve_root(w.image).runs["bad"].generations[1].lineages[0]
        slot = lineage.root.settings[SETTINGS_KEY]
        slot.version().source = "(define (my-eval expr env) #<procedure twice>)"
        w.image.tm.commit()
    with world.open(path) as w:
        run = R.resume(w)
        assert run.status == "done"
        bad, good_one = run.generations[1].lineages[0], run.generations[1].lineages[1]
        assert "cannot be read" in bad.failure and "my-eval version 1" in bad.failure
        assert bad.fitness["total"] == 0 and bad.status == "done"
        assert not good_one.failure and good_one.fitness["solved"] == 2
        assert run.generations[1].winner == 1
        rows = summary(run)["generations"][0]["lineages"]
        assert [r["status"] for r in rows] == ["failed", "done"]
        view = world.write(w.eval("(inspect :lineages)"))
        assert "cannot be read" in view and "g1-L1" in view


def test_probes_and_regression_tests_leave_the_world_alone(tmp_path: Path) -> None:
    with world.open(tmp_path / "w.fs") as w:
        w.eval(FACTORIAL)
        w.eval("(extend-eval! 'defvar '(lambda (expr env) "
               "(env-define! '() (cadr expr) (my-eval (caddr expr) env))))")
        w.eval("(eval-in my-eval '(defvar kept 1))")         # the construct works when used
        _slot(w).remember(1, "factorial", "(factorial 5)", "120")
        w.image.tm.commit()
        names = set(w.names.defs.keys())
        w.eval(TWICE)       # probes (defvar x y), (defvar 1 2)...: none may define a global
        assert set(w.names.defs.keys()) == names
        assert not w.env.is_bound(Symbol("x")) and w.env.is_bound(Symbol("kept"))
