"""The problem pool: its shape, the validation of problem files (clear errors
with file:line), selection by round, and the checker's API."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import world
from world.evolve.pool import (CATEGORIES, HIDDEN_STEPS, Case, CheckResult, Failure, PoolError,
                               Problem, load_file, load_pool)
from world.lisp.analyze import SPECIAL
from world.lisp.env import Environment
from world.lisp.primitives import OWNER
from world.lisp.errors import BudgetExceeded
from world.lisp.types import Char, Keyword, LispMap, Pair, Symbol, to_pylist

POOL = load_pool()
S = Symbol

COUNTS = {"standard": 15, "hard": 20, "evolution": 8, "string": 10, "higher-order": 10,
          "number-theory": 10, "recursive": 10, "logic": 10, "meta": 10}


# ---------------------------------------------------------------- shape

def test_exactly_103_problems_with_the_issue_ids() -> None:
    assert len(POOL) == 103
    expected = (set(range(1, 16)) | set(range(101, 121)) | set(range(201, 209))
                | set(range(300, 310)) | set(range(400, 410)) | set(range(500, 510))
                | set(range(600, 610)) | set(range(700, 710)) | set(range(800, 810)))
    assert {p.id for p in POOL} == expected


def test_nine_categories_with_their_counts() -> None:
    assert list(CATEGORIES) == list(COUNTS)
    assert Counter(p.category for p in POOL) == COUNTS
    for cat, problems in POOL.by_category.items():
        assert len(problems) == COUNTS[cat]
        assert all(p.id in CATEGORIES[cat] for p in problems)
        assert [p.id for p in problems] == sorted(p.id for p in problems)


def test_issue_named_problems_are_present() -> None:
    names = {p.name for p in POOL}
    for name in ["factorial", "reverse", "flatten", "group-by", "tree-map", "topological-sort",
                 "factorial-cps", "church-arithmetic", "matrix-multiply", "symbolic-derivative",
                 "simplify", "free-variables", "rewrite-rules", "palindrome", "caesar-cipher",
                 "chunk", "intersperse", "curry", "pipe", "complement", "zip-with", "gcd",
                 "prime", "collatz", "modpow", "totient", "binary-search", "merge-sort",
                 "bst-insert", "bst-contains", "n-queens", "truth-table", "de-morgan",
                 "tautology", "boolean-eval", "accumulator", "y-combinator",
                 "church-subtraction", "make-stack"]:
        assert name in names, name


@pytest.mark.parametrize("problem", list(POOL), ids=lambda p: f"{p.id}-{p.name}")
def test_every_problem_is_well_formed(problem: Problem) -> None:
    assert problem.name and problem.description
    assert 1 <= problem.difficulty <= 5
    assert problem.call_text in problem.description
    assert len(problem.hidden) >= 2
    assert any(world.write(c.expect) != problem.expect_text for c in problem.hidden)
    assert problem.source.endswith(".lisp") and problem.line > 0
    defined = set(problem.defines())
    assert defined
    for expr in [problem.call] + [c.expr for c in problem.hidden]:
        assert defined & symbols(expr)


@pytest.mark.parametrize("problem", list(POOL), ids=lambda p: f"{p.id}-{p.name}")
def test_brief_shows_the_call_but_no_hidden_case_or_solution(problem: Problem) -> None:
    brief = problem.brief()
    assert problem.call_text in brief and problem.expect_text in brief
    assert str(problem.id) in brief and problem.category in brief
    for case in problem.hidden:
        if case.text not in problem.description:
            assert case.text not in brief
    assert not any(world.write(f) in brief for f in problem.solution)


def test_problem_files_name_their_lines() -> None:
    p = POOL.get(1)
    text = Path(p.source).read_text().splitlines()
    assert text[p.line - 1].startswith("(problem")
    assert ":id 1 " in text[p.line]


# ---------------------------------------------------------------- the seed subset

ALLOWED = {S(n) for n in ("define", "lambda", "if", "cond", "let", "begin", "quote")}
QUOTE, DEFINE, LAMBDA, LET, COND, ELSE = (S("quote"), S("define"), S("lambda"), S("let"),
                                          S("cond"), S("else"))


def symbols(x: object) -> set:
    out, stack = set(), [x]
    while stack:
        x = stack.pop()
        if type(x) is Symbol:
            out.add(x)
        elif type(x) is Pair:
            stack += [x.car, x.cdr]
    return out


def subset_errors(x: object, top: bool = False) -> list[str]:
    """Why `x` is outside what the seed my-eval handles (empty when it is inside)."""
    if type(x) in (Char, Keyword, LispMap, tuple):
        return [f"literal {world.write(x)} needs quote"]
    if type(x) is not Pair:
        return []
    head, items = x.car, to_pylist(x)
    if head is QUOTE:
        return []
    if type(head) is Symbol and head in SPECIAL and head not in ALLOWED:
        return [f"special form {head.name}"]
    errors = []
    if head is DEFINE:
        if not top:
            errors.append("internal define")
        target = items[1]
        if type(target) is Pair:
            errors += params_errors(target.cdr)
        body = items[2:]
    elif head is LAMBDA:
        errors += params_errors(items[1])
        body = items[2:]
    elif head is LET:
        if type(items[1]) is Symbol:
            return ["named let"]
        for b in to_pylist(items[1]):
            errors += subset_errors(to_pylist(b)[1])
        body = items[2:]
    elif head is COND:
        body = []
        for clause in items[1:]:
            parts = to_pylist(clause)
            if len(parts) != 2 or parts[1] is S("=>"):
                errors.append("cond clause without exactly one expression")
            body += [p for p in parts if p is not ELSE]
    else:
        body = items
    if head in (DEFINE, LAMBDA, LET) and len(body) != 1:
        errors.append(f"{head.name} body of {len(body)} expressions")
    for b in body:
        errors += subset_errors(b)
    return errors


def params_errors(params: object) -> list[str]:
    items = []
    while type(params) is Pair:
        items.append(params.car)
        params = params.cdr
    if params is not None:
        return ["rest parameter"]
    return [] if all(type(p) is Symbol for p in items) else ["non-symbol parameter"]


@pytest.mark.parametrize("problem", list(POOL), ids=lambda p: f"{p.id}-{p.name}")
def test_reference_solutions_stay_inside_the_seed_subset(problem: Problem) -> None:
    errors = [e for form in problem.solution for e in subset_errors(form, top=True)]
    for expr in [problem.call] + [c.expr for c in problem.hidden]:
        errors += subset_errors(expr)
    assert errors == []


def test_the_subset_check_catches_what_the_seed_does_not_handle() -> None:
    bad = {"(let loop ((i 0)) i)": "named let", "(let* ((a 1)) a)": "special form let*",
           "(lambda (x) (define y x) y)": "internal define",
           "(lambda args 1)": "rest parameter", "(f #\\a)": "literal #\\a needs quote",
           "(cond (a => b))": "cond clause without exactly one expression",
           "(and a b)": "special form and", "(lambda (x) (f x) (g x))": "lambda body of 2 expressions"}
    for text, error in bad.items():
        assert error in subset_errors(world.read(text)), text
    assert subset_errors(world.read("(define (f x) (let ((y '(#\\a))) (cond ((g y) 1) (else 2))))"),
                         top=True) == []


def test_names_shared_between_problems_have_one_definition() -> None:
    seen: dict[Symbol, tuple[int, str]] = {}
    for p in POOL:
        for form in p.solution:
            name = p.defines()[p.solution.index(form)]
            text = world.write(form)
            if name in seen:
                assert seen[name][1] == text, f"{name.name}: problems {seen[name][0]} and {p.id} differ"
            seen[name] = (p.id, text)


# ---------------------------------------------------------------- lookup and selection

def test_get_and_index_and_unknown_ids() -> None:
    assert POOL.get(500).name == "gcd" and POOL[500] is POOL.get(500)
    assert 801 in POOL and 16 not in POOL
    with pytest.raises(PoolError, match="no problem with id 16"):
        POOL.get(16)
    assert load_pool() is POOL


def test_round_one_draws_the_standard_problems() -> None:
    chosen = POOL.select(1, seed=3)
    assert len(chosen) == 15 and {p.category for p in chosen} == {"standard"}
    assert [p.id for p in chosen] == list(range(1, 16))
    assert len(POOL.select(1, count=5, seed=3)) == 5


@pytest.mark.parametrize("round_no,allowed", [
    (2, {"standard", "hard", "string", "higher-order", "number-theory", "recursive", "logic", "meta"}),
    (3, {"hard", "evolution", "string", "higher-order", "number-theory", "recursive", "logic", "meta"}),
])
def test_rounds_two_and_three_draw_from_their_categories(round_no: int, allowed: set) -> None:
    for seed in range(5):
        chosen = POOL.select(round_no, seed=seed)
        assert len(chosen) == 15 and len({p.id for p in chosen}) == 15
        assert {p.category for p in chosen} <= allowed


def test_late_rounds_are_mostly_evolution() -> None:
    for round_no in (4, 7):
        chosen = POOL.select(round_no, seed=1)
        cats = Counter(p.category for p in chosen)
        assert cats["evolution"] == 8 and len(chosen) == 15
        assert "standard" not in cats
        assert cats.most_common(1)[0][0] == "evolution"


def test_tournament_rounds_cover_every_category() -> None:
    for round_no in (2, 3, 4):      # round 1 is standard only (tests/evolve/test_scheduling.py)
        chosen = POOL.select(round_no, seed=9, tournament=True)
        assert len(chosen) == 15
        assert {p.category for p in chosen} == set(CATEGORIES)


def test_selection_is_deterministic_and_seeded() -> None:
    a = [p.id for p in POOL.select(2, seed="lineage-1")]
    assert a == [p.id for p in POOL.select(2, seed="lineage-1")]
    others = {tuple(p.id for p in POOL.select(2, seed=s)) for s in range(6)}
    assert len(others) > 1


def test_selection_prefers_problems_not_yet_solved() -> None:
    solved = [p.id for p in POOL.select(2, seed=0)]
    fresh = POOL.select(2, seed=0, exclude=solved)
    assert not set(solved) & {p.id for p in fresh}
    # round 1 has only 15 standard problems: excluded ones come back when nothing else is left
    again = POOL.select(1, seed=0, exclude=range(1, 11))
    assert [p.id for p in again] == list(range(1, 16))
    assert [p.id for p in POOL.select(1, count=5, exclude=range(1, 11))] == list(range(11, 16))


def test_round_numbers_start_at_one() -> None:
    with pytest.raises(PoolError, match="start at 1"):
        POOL.select(0)


# ---------------------------------------------------------------- the checker's API

def test_check_accepts_a_world_an_environment_or_an_evaluator() -> None:
    p = POOL.get(1)
    w = world.open()
    w.eval(p.solution_text())
    assert p.check(w, 120).solved
    env = Environment(OWNER)
    for form in p.solution:
        world.lisp.run(env, form)
    assert p.check(env, 120) == CheckResult(True, ())
    seen = []

    def evaluate(form: object, steps: int) -> object:
        seen.append((world.write(form), steps))
        return world.lisp.run(env, form, world.Limits(steps=steps)).value
    assert p.check(evaluate, 120, steps=77).solved
    assert seen == [(c.text, 77) for c in p.hidden]
    with pytest.raises(TypeError):
        p.check(42, 120)


def test_a_wrong_value_fails_even_when_the_hidden_cases_pass() -> None:
    p = POOL.get(1)
    w = world.open()
    w.eval(p.solution_text())
    result = p.check(w, 121)
    assert not result.solved
    assert result.failures == (Failure("(factorial 5)", "120", got="121", hidden=False),)
    assert result.message() == "not solved: got 121, expected 120 for (factorial 5)"


def test_failure_messages_hide_hidden_cases_unless_revealed() -> None:
    p = POOL.get(1)
    w = world.open()
    w.eval("(define (factorial n) (if (= n 5) 120 0))")
    result = p.check(w, 120)
    assert not result.solved and len(result.failures) == 3
    assert "(factorial 0)" not in result.message()
    assert result.message() == ("not solved: a hidden case gave the wrong value; "
                                "a hidden case gave the wrong value; a hidden case gave the wrong value")
    assert "(factorial 0) gave 0, expected 1" in result.message(reveal=True)
    assert CheckResult(True).message() == "solved"


def test_hidden_cases_run_under_the_step_budget() -> None:
    p = POOL.get(1)
    w = world.open()
    w.eval("(define (factorial n) (if (= n 5) 120 (if (= n 1) 1 (* n (factorial (- n 1))))))")
    result = p.check(w, 120, steps=HIDDEN_STEPS)
    errors = [f.error for f in result.failures if f.error]
    assert errors and all("step budget of 1500" in e for e in errors)
    assert "a hidden case raised budget exceeded: step budget of 1500 exhausted" in result.message()


def test_hidden_cases_see_only_the_agents_definitions() -> None:
    p = POOL.get(500)
    w = world.open()
    result = p.check(w, 6)
    assert not result.solved
    assert all("unbound variable: my-gcd" in f.error for f in result.failures if f.hidden)


def test_case_text_is_canonical() -> None:
    assert Case(world.read("(f '(1 2))"), 3).text == "(f '(1 2))"


# ---------------------------------------------------------------- malformed problem files

GOOD = """(problem :id 1 :name "one" :category standard :difficulty 1
  :description "Make (one 1) work." :call (one 1) :expect 1
  :hidden (((one 2) 2) ((one 3) 3)) :solution ((define (one x) x)))"""


def write_pool(tmp_path: Path, text: str, name: str = "a.lisp") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    write_pool(tmp_path, "; comment\n" + GOOD)
    pool = load_pool(tmp_path)
    assert len(pool) == 1 and pool.get(1).line == 2 and pool.get(1).source.endswith("a.lisp")


def swap(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


MALFORMED = [
    ("(define x 1)", "expected a (problem ...) form"),
    ("(problem :id 1 :name)", "problem fields must be :key value pairs"),
    (swap(":difficulty 1", ":difficulty 1 :hint 2"), "unknown field :hint"),
    (swap(":difficulty 1", ":difficulty 1 :difficulty 2"), "field :difficulty given twice"),
    (swap(':name "one" ', ""), "problem 1: missing :name"),
    (swap(":id 1", ':id "1"'), ':id must be an integer, got "1"'),
    (swap("standard", "cooking"), "problem 1: :category must be one of standard, hard"),
    (swap(":id 1", ":id 101"), "problem 101: id outside the standard range 1-15"),
    (swap(":difficulty 1", ":difficulty 9"), ":difficulty must be an integer from 1 to 5"),
    (swap('"one"', '""'), ":name must be a non-empty string"),
    (swap("Make (one 1) work.", "Make it work."), ":description must be a string that names the call (one 1)"),
    (swap(":call (one 1)", ":call one"), ":call must be a call such as (f 1), got one"),
    (swap("((one 3) 3)", ""), "at least 2 hidden cases are needed, found 1"),
    (swap("((one 3) 3)", "((one 3))"), "hidden case ((one 3)) is not (expression expected)"),
    (swap("((one 2) 2) ((one 3) 3)", "((one 2) 1) ((one 3) 1)"),
     "some hidden case must expect a value other than :expect"),
    (swap("((define (one x) x))", "((one 1))"), ":solution must be a list of (define ...) forms"),
    (swap("((one 3) 3)", "((+ 1 2) 3)"), "(+ 1 2) uses no name the solution defines"),
    (swap(":expect 1", ":expect #<void>"), "read error: bad # syntax: #<void>"),
]


@pytest.mark.parametrize("text,message", MALFORMED)
def test_malformed_problems_are_one_clear_error_with_file_and_line(tmp_path: Path, text: str,
                                                                     message: str) -> None:
    path = write_pool(tmp_path, GOOD.replace(":id 1", ":id 2").replace('"one"', '"two"')
                      + "\n\n" + text)
    with pytest.raises(PoolError) as info:
        load_pool(tmp_path)
    err = str(info.value)
    assert message in err
    assert "\n" not in err
    assert err.startswith(f"{path}:")
    # the second problem's first line; a read error names the line of the bad token
    assert int(err.split(":")[1]) == GOOD.count("\n") + 3 + ("read error" in message)


def test_unbalanced_file_names_the_line(tmp_path: Path) -> None:
    path = write_pool(tmp_path, GOOD + "\n(problem :id 2\n")
    with pytest.raises(PoolError) as info:
        load_file(path)
    assert str(info.value).startswith(f"{path}:{GOOD.count(chr(10)) + 2}:")


def test_duplicate_ids_and_names_across_files(tmp_path: Path) -> None:
    write_pool(tmp_path, GOOD, "a.lisp")
    b = write_pool(tmp_path, GOOD.replace('"one"', '"uno"'), "b.lisp")
    with pytest.raises(PoolError, match=r"problem 1: 1 is already used by problem 1 at .*a.lisp:1") as info:
        load_pool(tmp_path)
    assert str(info.value).startswith(f"{b}:1:")
    b.write_text(GOOD.replace(":id 1", ":id 2"))
    with pytest.raises(PoolError, match="'one' is already used by problem 1"):
        load_pool(tmp_path)


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PoolError, match="no problem files"):
        load_pool(tmp_path)


def test_expected_values_are_literal_data(tmp_path: Path) -> None:
    write_pool(tmp_path, swap(":expect 1", ":expect 'x"))
    assert load_pool(tmp_path).get(1).expect == world.read("'x")


def test_failures_of_budgets_are_lisp_errors() -> None:
    assert issubclass(BudgetExceeded, world.LispError) and issubclass(PoolError, world.LispError)
