"""Novelty is what my-eval handles (probes run through it) that the original seed does
not, whatever the dispatch style; observing it leaves the lineage's world as it was;
and the hall of fame's `:evaluator-lines` counts pretty-printed lines."""
from __future__ import annotations

import pytest

import world
from world.evolve import run as R
from world.evolve.lineage import Generation, Lineage, Run, evolve_root, lineage_world
from world.evolve.novelty import novel_constructs
from world.evolve.package import package_of
from world.evolve.report import lineages_view
from world.evolve.seeding import install, pretty_lines, seed_source
from world.evolve.tournament import constructs

WHEN_FORM = ("(define (when-form expr env) (if (eq? (car expr) 'when) "
             "(if (my-eval (cadr expr) env) (my-eval/body (cddr expr) env) (void)) "
             "(if (my-eval (cadr expr) env) (void) (my-eval/body (cddr expr) env))))")
# Dispatch by membership in a quoted list: no (form? e 'N) or (eq? (car e) 'N) to read off.
WHEN_CLAUSE = "((memq (car expr) '(when unless)) (when-form expr env)) "


@pytest.fixture
def lw(tmp_path):
    """A fresh lineage world with the seed evaluator installed."""
    w = world.open(tmp_path / "w.fs")
    w.image.begin()
    run = evolve_root(w.image).runs["n"] = Run("n", {}, "test")
    gen = run.generations[1] = Generation(1, "", "seed")
    lineage = gen.lineages[0] = Lineage("n", 1, 0, "")
    w.image.tm.commit()
    sub = lineage_world(w.image, lineage)
    install(sub, "")
    try:
        yield sub
    finally:
        sub.close()
        w.close()


def novel(lw):
    return novel_constructs(lw, package_of(lw))


def test_the_seed_itself_is_not_novel(lw):
    assert novel(lw) == ()


def test_a_construct_added_by_extend_eval_is_novel(lw):
    lw.eval("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))")
    assert novel(lw) == ("twice",)


def _memq_style(seed):
    at = seed.index("((form? expr 'if)")
    return f"{seed[:at]}{WHEN_CLAUSE}{seed[at:]}"


def _head_style(seed):
    """The seed's cond inside (let ((head ...)) ...), dispatching with (eq? head 'N)."""
    at = seed.index("(cond ((not (pair? expr))")
    clauses = ("((eq? head 'when) (when-form expr env)) "
               "((eq? head 'unless) (when-form expr env)) ")
    return (f"{seed[:at]}(let ((head (if (pair? expr) (car expr) #f))) "
             f"(cond {clauses}{seed[at + len('(cond '):]})")


@pytest.mark.parametrize("style", [_memq_style, _head_style])
def test_any_dispatch_style_is_seen_by_behaviour_not_by_source(lw, style):
    lw.eval(WHEN_FORM)
    seed = seed_source()
    lw.eval(f"(edit-eval! '{style(seed)})")
    assert lw.eval("(eval '(unless #f 7))") == 7
    assert constructs(world.write(lw.eval("(show-eval)"))) - constructs(seed) == set()   # missed
    assert novel(lw) == ("unless", "when")


def test_a_global_function_or_a_rewrite_of_what_the_seed_does_is_not_novel(lw):
    lw.eval("(define (sq x) (* x x))")
    seed = seed_source()
    at = seed.index("((form? expr 'if)")
    # An `if` handled again, a form the evaluator already knew, and a quoted global function.
    clause = "((eq? (car expr) 'sq) (* (my-eval (cadr expr) env) (my-eval (cadr expr) env))) "
    lw.eval(f"(edit-eval! '{seed[:at]}{clause}{seed[at:]})")
    lw.eval("(extend-eval! 'if '(lambda (expr env) (if (my-eval (cadr expr) env) "
            "(my-eval (caddr expr) env) (if (pair? (cdddr expr)) (my-eval (car (cdddr expr)) env) #f))))")
    assert novel(lw) == ()


def test_observing_novelty_leaves_the_world_alone_and_gives_the_same_answer(lw):
    lw.eval("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))")
    before = world.write(lw.eval("(show-eval)"))
    names = set(lw.image.root.definitions.keys())
    first = novel(lw)
    assert novel(lw) == first == ("twice",)
    assert world.write(lw.eval("(show-eval)")) == before
    assert lw.eval("(eval '(twice 21))") == 42          # my-eval is the lineage's again
    assert set(lw.image.root.definitions.keys()) == names
    assert not lw.env.is_bound(world.lisp.types.Symbol("x"))


def test_the_hall_of_fame_counts_pretty_printed_evaluator_lines(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        R.start(w, agent="reference", run_id="h", lineages=1, rounds=1, per_round=1,
                problems=(1,))
        lines = lineages_view(w)["hall_of_fame"][0]["evaluator_lines"]
        assert lines == pretty_lines(seed_source()) > 20
        assert f":evaluator-lines {lines}" in world.write(w.eval("(inspect :lineages)"))
