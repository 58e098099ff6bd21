"""Changing my-eval: extend-eval!, edit-eval!, defnative!, rollback, and the
refusals that must leave the world exactly as it was, on a real FileStorage
image reopened after each change."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.evolve.evaluator import SANITY, SANITY_STEPS, EvalRefused
from world.lisp.errors import LispError
from world.lisp.types import Symbol

TWICE = "(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))"
SWAP = ("(extend-eval! 'swap '(lambda (expr env) (list (my-eval (caddr expr) env) "
        "(my-eval (cadr expr) env))) '(swap 1 2) '(2 1))")

# (form typed in the world, expected value of the check that follows it)
EXTENSIONS = [
    (TWICE, "(eval-in my-eval '(twice 21))", "42"),
    (SWAP, "(eval-in my-eval '(swap 1 (+ 1 2)))", "(3 1)"),
    ("(extend-eval! 'unless '(lambda (expr env) (if (my-eval (cadr expr) env) #f "
     "(my-eval/body (cddr expr) env))))", "(eval-in my-eval '(unless #f 1 2))", "2"),
    ("(extend-eval! 'set! '(lambda (expr env) (env-set! env (cadr expr) (my-eval (caddr expr) env))))",
     "(eval-in my-eval '(let ((n 1)) (set! n (+ n 1)) n))", "2"),
    ("(extend-eval! 'whole 'list)", "(eval-in my-eval '(whole 1))", "((whole 1) ())"),
]

# (form, words the one-line error must contain)
REFUSALS = [
    ("(extend-eval! 'if '(lambda (expr env) (my-eval expr env)))",
     ["sanity test (if #t 1 2)", "step budget"]),
    ("(extend-eval! 'if '(lambda (expr env) (my-eval (caddr expr) env)))",
     ["sanity test (if #f 1 2)", "expected 2, got 1"]),
    ("(extend-eval! 'foo 42)", ["must be a procedure", "42"]),
    ("(extend-eval! 'foo '(+ 1 2))", ["must be a procedure", "which is 3"]),
    ("(extend-eval! 'foo '(lambda (x) x))", ["(expr env)", "1 argument"]),
    ("(extend-eval! \"foo\" '(lambda (expr env) 1))", ["must be a symbol"]),
    ("(extend-eval! 'loop '(lambda (expr env) (my-eval expr env)) '(loop) 1)",
     ["sanity test (loop)", "step budget"]),
    ("(extend-eval! 'seven '(lambda (expr env) 7) '(seven) 8)",
     ["sanity test (seven)", "expected 8, got 7"]),
    ("(edit-eval! '(define (my-eval expr env) 42))", ["sanity test (+ 1 2)", "expected 3, got 42"]),
    ("(edit-eval! '(define (my-eval expr env) (my-eval expr env)))", ["step budget"]),
    ("(edit-eval! '(define my-eval 5))", ["not be a procedure"]),
    ("(edit-eval! '(define (other x) x))", ["expected (define (my-eval expr env)"]),
    ("(edit-eval! '(define (my-eval expr env) (if)))", ["does not compile", "syntax error"]),
    ("(eval-rollback! 99)", ["no version 99"]),
    ("(defnative! my-eval (x) x)", ["extend-eval! or edit-eval!"]),
    ("(defnative! broken (x) (let x))", ["syntax error"]),
]


def _open(path: Path) -> world.World:
    return world.open(path)


def _state(w: world.World) -> tuple:
    """Everything a refused change must leave alone."""
    defs = {n: (d.kind, d.source, d.version) for n, d in w.names.defs.items()}
    return (world.write(w.eval("(show-eval)")), world.write(w.eval("(eval-history)")),
            defs, world.write(w.eval("(eval-natives)")), world.write(w.eval("(eval-constructs)")))


@pytest.mark.parametrize("form, check, expected", EXTENSIONS)
def test_extension_is_kept_and_survives_reopening(tmp_path: Path, form: str, check: str,
                                                  expected: str) -> None:
    path = tmp_path / "w.fs"
    with _open(path) as w:
        assert w.eval(form) == 2
        assert world.write(w.eval(check)) == expected
    with _open(path) as w:
        name = world.read(form).cdr.car.cdr.car.name
        assert w.names.defs["my-eval"].kind == "extend-eval"
        hist = w.eval("(eval-history)")
        assert [world.write(h) for h in hist][-1].count(":kind \"extend-eval\"") == 1
        assert f"(form? expr '{name})" in world.write(w.eval("(show-eval)"))
        [(construct, version, commit)] = [list(c) for c in w.eval("(eval-constructs)")]
        assert (construct.name, version) == (name, 2)
        assert commit is False or isinstance(commit, str)      # a history commit id, once kept
        assert world.write(w.eval(check)) == expected


def test_extend_inserts_before_the_application_clause() -> None:
    w = world.open()
    w.eval(TWICE)
    cond = list(w.eval("(show-eval)").cdr.cdr.cdr.car)
    clauses = cond[1:]
    assert world.write(clauses[-1].car) == "else"
    assert world.write(clauses[-2].car) == "(form? expr 'twice)"


def test_extending_the_same_form_again_replaces_its_clause() -> None:
    w = world.open()
    w.eval(TWICE)
    w.eval("(extend-eval! 'twice '(lambda (expr env) (* 3 (my-eval (cadr expr) env))))")
    assert w.eval("(eval-in my-eval '(twice 2))") == 6
    assert world.write(w.eval("(show-eval)")).count("'twice") == 1
    assert [(c.car.name, c.cdr.car) for c in w.eval("(eval-constructs)")] == [("twice", 2)]


@pytest.mark.parametrize("form, words", REFUSALS)
def test_refused_change_leaves_the_world_unchanged(tmp_path: Path, form: str, words: list[str]) -> None:
    path = tmp_path / "w.fs"
    with _open(path) as w:
        w.eval(TWICE)
        w.eval("(defnative! sq (x) (* x x))")
        before = _state(w)
        with pytest.raises(EvalRefused) as info:
            w.eval(form)
        message = str(info.value)
        assert "\n" not in message
        for word in words:
            assert word in message, message
        assert _state(w) == before
        assert w.eval("(eval-in my-eval '(twice (if #t 2 3)))") == 4
    with _open(path) as w:
        assert _state(w) == before
        assert w.eval("(eval-in my-eval '(if #f 1 (twice 5)))") == 10
        assert w.eval("(sq 4)") == 16


def test_a_looping_change_is_stopped_by_its_small_budget_at_the_same_step_each_time() -> None:
    w = world.open()
    w.eval("(eval-in my-eval 1)")
    form = ("(guard (e (#t (error-object-message e))) "
            "(extend-eval! 'if '(lambda (expr env) (my-eval expr env))))")
    message = w.eval(form)
    assert "sanity test (if #t 1 2)" in message
    steps = w.last.steps
    assert SANITY_STEPS < steps < len(SANITY) * SANITY_STEPS + 5_000
    w.eval(form)
    assert w.last.steps == steps


def test_edit_replaces_the_whole_evaluator_and_rollback_restores_it(tmp_path: Path) -> None:
    path = tmp_path / "w.fs"
    with _open(path) as w:
        seed = world.write(w.eval("(show-eval)"))
        w.eval(TWICE)
        edited = seed.replace("(cond ", "(cond ((form? expr (quote forty-two)) 42) ", 1)
        assert w.eval(f"(edit-eval! '{edited})") == 3
        assert w.eval("(eval-in my-eval '(forty-two))") == 42
        assert w.eval("(eval-rollback! 1)") == 4
        assert world.write(w.eval("(show-eval)")) == seed
    with _open(path) as w:
        kinds = [world.write(h).split(":kind ")[1].split(" ")[0] for h in w.eval("(eval-history)")]
        assert kinds == ['"seed"', '"extend-eval"', '"edit-eval"', '"edit-eval"']
        assert world.write(w.eval("(show-eval)")) == seed
        assert w.names.defs["my-eval"].kind == "edit-eval"
        with pytest.raises(LispError):
            w.eval("(eval-in my-eval '(twice 1))")
        assert w.eval("(eval-rollback! 2)") == 5
        assert w.eval("(eval-in my-eval '(twice 1))") == 2


def test_defnative_runs_on_the_ground_and_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "w.fs"
    with _open(path) as w:
        assert w.eval("(defnative! cube (x) \"x cubed\" (* x x x))") == Symbol("cube")
        assert w.eval("(cube 3)") == 27
        assert w.eval("(eval-in my-eval '(cube 4))") == 64
        w.eval("(defnative! cube (x) (* x x x 1))")
    with _open(path) as w:
        assert w.names.defs["cube"].kind == "defnative"
        assert world.write(w.eval("(eval-natives)")) == "(cube)"
        assert w.eval("(cube 2)") == 8


def test_the_native_cap_refuses_one_more() -> None:
    w = world.open()
    w.eval("(defnative! a () 1)")
    w.image.begin()
    w.image.root.settings["evolve/evaluator"].max_natives = 1
    w.image.commit("cap the natives")
    with pytest.raises(EvalRefused, match="at most 1 natives"):
        w.eval("(defnative! b () 2)")
    assert w.eval("(defnative! a () 3)") == Symbol("a")


def test_a_definition_through_eval_in_is_a_world_definition(tmp_path: Path) -> None:
    path = tmp_path / "w.fs"
    with _open(path) as w:
        w.eval("(eval-in my-eval '(define (sq x) \"square\" (* x x)))")
        assert w.eval("(sq 7)") == 49
    with _open(path) as w:
        assert w.eval("(sq 8)") == 64
        assert w.names.defs["sq"].source == '(define (sq x) "square" (* x x))'
        assert w.names.defs["sq"].doc == "square"


def test_eval_in_refuses_a_non_procedure() -> None:
    with pytest.raises(LispError, match="evaluator procedure"):
        world.open().eval("(eval-in 5 '(+ 1 2))")


def test_an_error_later_in_the_same_form_undoes_the_change() -> None:
    w = world.open()
    w.eval("(eval-in my-eval 0)")
    with pytest.raises(LispError, match="car"):
        w.eval(f"(list {TWICE} (car 5))")
    assert len(list(w.eval("(eval-history)"))) == 1
    assert "twice" not in world.write(w.eval("(show-eval)"))
    with pytest.raises(LispError):
        w.eval("(eval-in my-eval '(twice 1))")


def test_the_evaluator_as_data() -> None:
    w = world.open()
    assert world.write(w.eval("(get (evaluator-info) :installed)")) == "#f"
    w.eval(TWICE)
    w.eval("(defnative! sq (x) (* x x))")
    assert world.write(w.eval("(get (evaluator-info) :version)")) == "2"
    assert world.write(w.eval("(get (evaluator-info) :natives)")) == "(sq)"
    assert world.write(w.eval("(map (lambda (c) (get c :name)) (get (evaluator-info) :constructs))")) == "(twice)"
    assert world.write(w.eval("(get (evaluator-info) :mode)")) == "ground"
    assert "twice" in world.write(w.eval("(get (evaluator-info) :forms)"))
