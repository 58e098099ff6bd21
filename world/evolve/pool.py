"""The problem pool: 103 Lisp problems in nine categories, kept as data in
`world/evolve/problems/*.lisp`, and the checker behind `(done expr)`.

Each problem is one `(problem :key value ...)` form:

    (problem
      :id 1 :name "factorial" :category standard :difficulty 1
      :description "Define (factorial n) ... Make (factorial 5) work."
      :call (factorial 5)                  ; the call the agent must make work
      :expect 120                          ; its value (literal data, not evaluated)
      :hidden (((factorial 0) 1) ...)      ; (expression expected) pairs the agent never sees
      :solution ((define (factorial n) ...)))   ; reference forms: tests and the reference agent only

API for the agent loop:

    pool = load_pool()                       # every problem; PoolError (file:line) if one is malformed
    pool.get(7), pool[7]                     # one Problem by id
    pool.by_category["string"]               # a category's problems, by id
    pool.select(round_no, count=15, seed=0, tournament=False, exclude=(), weighted=False)
    problem.brief()                          # the text the agent is shown (no hidden cases)
    problem.solution_text()                  # the reference solution as source text
    problem.check(target, value, steps=...)  # -> CheckResult(solved, failures)
    problem.check(through(env), value)       # hidden cases run through env's current my-eval

`check` is what `(done expr)` calls with the value `expr` produced: the
problem is solved only when that value equals the expected one *and* every
hidden case, evaluated where the agent's definitions live, gives its expected
value within `steps` steps. `target` is that place: a World, an Environment
(both evaluated on the ground), or any `evaluate(form, steps) -> value`
callable, such as `through(env)`, which runs each case as
`(eval-in my-eval 'case)` so that the lineage's own evaluator (and its
budget) applies to the hidden cases just as it did to the agent's code.
Called from inside a running evaluation (a `done` primitive, say), the
hidden cases run nested in it and their steps are charged to it, as the
runtime does for every nested evaluation.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..lisp.env import Environment
from ..lisp.errors import Interrupted, LispError
from ..lisp.printer import write
from ..lisp.reader import read_spans
from ..lisp.runtime import run
from ..lisp.types import Keyword, Pair, Symbol, equal, make_list, to_pylist

PROBLEMS_DIR = Path(__file__).parent / "problems"
HIDDEN_STEPS = 1500     # steps each hidden case may use (the round-1 budget)

CATEGORIES: dict[str, range] = {
    "standard": range(1, 16),
    "hard": range(101, 121),
    "evolution": range(201, 209),
    "string": range(300, 310),
    "higher-order": range(400, 410),
    "number-theory": range(500, 510),
    "recursive": range(600, 610),
    "logic": range(700, 710),
    "meta": range(800, 810),
}
NEW = ("string", "higher-order", "number-theory", "recursive", "logic", "meta")
ROUND_CATEGORIES: dict[int, tuple[str, ...]] = {
    1: ("standard",),
    2: ("standard", "hard") + NEW,
    3: ("hard", "evolution") + NEW,
}
LATE_ROUNDS = ("hard",) + NEW       # round 4 and later: every evolution problem first, then these

Evaluate = Callable[[Any, int], Any]
DEFINE, QUOTE, EVAL_IN = Symbol("define"), Symbol("quote"), Symbol("eval-in")


class PoolError(LispError):
    """A malformed problem file, or a problem id that is not in the pool."""

    kind = "problem pool error"


# ---------------------------------------------------------------- checking

@dataclass(frozen=True)
class Case:
    """A hidden test: an expression and the value it must have."""

    expr: Any
    expect: Any

    @property
    def text(self) -> str:
        """The expression as source text."""
        return write(self.expr)


@dataclass(frozen=True)
class Failure:
    """Why one case failed: the value it gave instead, or the error it raised."""

    expr: str
    expected: str
    got: str | None = None
    error: str | None = None
    hidden: bool = True

    def describe(self, reveal: bool = False) -> str:
        """One line; a hidden case's expression is shown only when `reveal`."""
        if not self.hidden:
            return f"got {self.got}, expected {self.expected} for {self.expr}"
        what = self.expr if reveal else "a hidden case"
        if self.error is not None:
            return f"{what} raised {self.error}"
        if reveal:
            return f"{what} gave {self.got}, expected {self.expected}"
        return f"{what} gave the wrong value"


@dataclass(frozen=True)
class CheckResult:
    """The verdict on a `(done expr)`: solved, or the failures that say why not."""

    solved: bool
    failures: tuple[Failure, ...] = ()

    def message(self, reveal: bool = False) -> str:
        """A one-line summary for the scratchpad or the agent's failure notes."""
        if self.solved:
            return "solved"
        head = "; ".join(f.describe(reveal) for f in self.failures[:3])
        more = len(self.failures) - 3
        return f"not solved: {head}" + (f"; and {more} more" if more > 0 else "")


def evaluator(target: Any) -> Evaluate:
    """An `evaluate(form, steps) -> value` for a World, an Environment or such a callable."""
    env = getattr(target, "env", target)
    if isinstance(env, Environment):
        def ground(form: Any, steps: int) -> Any:
            return run(env, form, env.limits.narrow(steps=steps)).value
        return ground
    if callable(target):
        return target
    raise TypeError(f"cannot evaluate problem cases in {type(target).__name__}")


def through(target: Any, evaluator: str = "my-eval") -> Evaluate:
    """An `evaluate(form, steps)` running each form through `evaluator` in target's environment."""
    env = getattr(target, "env", target)
    if not isinstance(env, Environment):
        raise TypeError(f"cannot evaluate problem cases in {type(target).__name__}")
    name = Symbol(evaluator)

    def evaluate(form: Any, steps: int) -> Any:
        call = make_list([EVAL_IN, name, make_list([QUOTE, form])])
        return run(env, call, env.limits.narrow(steps=steps)).value
    return evaluate


# ---------------------------------------------------------------- problems

@dataclass(frozen=True)
class Problem:
    """One problem of the pool."""

    id: int
    name: str
    category: str
    difficulty: int
    description: str
    call: Any
    expect: Any
    hidden: tuple[Case, ...]
    solution: tuple[Any, ...]
    source: str = "<pool>"
    line: int = 0

    @property
    def call_text(self) -> str:
        """The call the agent must make work, as source text."""
        return write(self.call)

    @property
    def expect_text(self) -> str:
        """The expected value of the call, as source text."""
        return write(self.expect)

    def brief(self) -> str:
        """What the agent is told: never the hidden cases or the solution."""
        return (f"Problem {self.id} ({self.name}; {self.category}, difficulty {self.difficulty}): "
                f"{self.description}\nThe call {self.call_text} must return {self.expect_text}; "
                f"solve it with (done {self.call_text}). Further hidden calls test your definitions.")

    def solution_text(self) -> str:
        """The reference solution as source text, one form per line."""
        return "\n".join(write(f) for f in self.solution)

    def defines(self) -> list[Symbol]:
        """The names the reference solution defines, in order."""
        return [defined_name(f) for f in self.solution]

    def check(self, target: Any, value: Any, steps: int = HIDDEN_STEPS) -> CheckResult:
        """Solved iff `value` is the expected value and every hidden case passes in `target`."""
        evaluate = evaluator(target)
        failures = []
        if not equal(value, self.expect):
            failures.append(Failure(self.call_text, self.expect_text, got=write(value), hidden=False))
        for case in self.hidden:
            try:
                got = evaluate(case.expr, steps)
            except Interrupted:
                raise
            except LispError as e:
                failures.append(Failure(case.text, write(case.expect), error=_one_line(e)))
                continue
            if not equal(got, case.expect):
                failures.append(Failure(case.text, write(case.expect), got=write(got)))
        return CheckResult(not failures, tuple(failures))


def _one_line(e: LispError) -> str:
    return f"{e.kind}: {e.message}".splitlines()[0]


def defined_name(form: Any) -> Symbol:
    """The name a `(define name ...)` or `(define (name . params) ...)` form defines."""
    target = form.cdr.car
    return target.car if type(target) is Pair else target


class Pool:
    """Every problem, by id and by category."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: dict[int, Problem] = {p.id: p for p in sorted(problems, key=lambda p: p.id)}
        self.by_category: dict[str, tuple[Problem, ...]] = {
            c: tuple(p for p in self.problems.values() if p.category == c) for c in CATEGORIES}

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems.values())

    def __contains__(self, pid: object) -> bool:
        return pid in self.problems

    def __getitem__(self, pid: int) -> Problem:
        return self.get(pid)

    def get(self, pid: int) -> Problem:
        """The problem with id `pid`; PoolError if there is none."""
        try:
            return self.problems[pid]
        except KeyError:
            raise PoolError(f"no problem with id {pid} in the pool") from None

    def select(self, round_no: int, count: int = 15, seed: Any = 0, tournament: bool = False,
               exclude: Iterable[int] = (), weighted: bool = False) -> list[Problem]:
        """`count` problems for round `round_no`, drawn deterministically from `seed`.

        Round 1 draws standard problems only (any problem when the pool holds no
        standard one); round 2 standard, hard and the six new categories; round 3
        hard, evolution and the new ones; round 4 and later every evolution
        problem first, then hard and new. In tournament mode one problem of every
        category comes first, from round 2. `weighted` draws problems whose
        difficulty is nearest the round's (round r aims at difficulty r, at most
        5) more often. Ids in `exclude` (already seen) are drawn only when no
        unseen problem is left: after the round's own categories, the other
        categories' unseen problems come first (from round 2). Sorted by id.
        """
        if round_no < 1:
            raise PoolError(f"round numbers start at 1, not {round_no}")
        rng = random.Random(f"{seed}/{round_no}")
        avoid = set(exclude)
        chosen: list[Problem] = []
        target = min(round_no, 5)
        first = round_no == 1 and bool(self.by_category["standard"])
        if first:
            plan: list[tuple[str, ...]] = [("standard",)]
        elif round_no >= 4:
            plan = [("evolution",), LATE_ROUNDS]
        else:
            plan = [ROUND_CATEGORIES[max(round_no, 2)]]

        def order(problems: list[Problem]) -> list[Problem]:
            if not weighted:
                rng.shuffle(problems)
                return problems
            # Efraimidis-Spirakis: a weighted draw without replacement, one key each
            keys = {p.id: rng.random() ** (2.0 ** abs(p.difficulty - target)) for p in problems}
            return sorted(problems, key=lambda p: -keys[p.id])

        def draw(cats: Iterable[str], limit: int, fresh: bool) -> None:
            taken = {p.id for p in chosen}
            pool = [p for c in cats for p in self.by_category[c]
                    if p.id not in taken and (p.id not in avoid) == fresh]
            chosen.extend(order(pool)[:max(0, limit)])

        for fresh in (True, False):         # every unseen problem before any repeat
            if tournament and not first:
                have = {p.category for p in chosen}
                for cat in CATEGORIES:
                    if cat not in have:
                        draw([cat], min(1, count - len(chosen)), fresh)
            for cats in plan:
                draw(cats, count - len(chosen), fresh)
            if fresh and not first:
                draw(CATEGORIES, count - len(chosen), fresh)
        return sorted(chosen, key=lambda p: p.id)


# ---------------------------------------------------------------- loading

FIELDS = ("id", "name", "category", "difficulty", "description", "call", "expect",
          "hidden", "solution")


def load_pool(directory: str | Path | None = None) -> Pool:
    """Every problem in the `.lisp` files of `directory` (the shipped pool by default)."""
    if directory is None:
        return _shipped()
    return _load(Path(directory))


@lru_cache(maxsize=1)
def _shipped() -> Pool:
    return _load(PROBLEMS_DIR)


def _load(directory: Path) -> Pool:
    files = sorted(directory.glob("*.lisp"))
    if not files:
        raise PoolError(f"no problem files (*.lisp) in {directory}")
    problems: list[Problem] = []
    seen: dict[Any, Problem] = {}
    for path in files:
        for problem in load_file(path):
            for key in (problem.id, problem.name):
                if key in seen:
                    other = seen[key]
                    raise PoolError(f"problem {problem.id}: {key!r} is already used by problem "
                                    f"{other.id} at {other.source}:{other.line}",
                                    (problem.line, 1), problem.source)
                seen[key] = problem
            problems.append(problem)
    return Pool(problems)


def load_file(path: str | Path) -> list[Problem]:
    """The problems in one file; PoolError with file:line at the first malformed one."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        spans = read_spans(text, str(path))
    except LispError as e:
        raise PoolError(f"{e.kind}: {e.message}", e.loc, str(path)) from None
    out = []
    for form, start, _ in spans:
        line = text.count("\n", 0, start) + 1
        out.append(parse_problem(form, str(path), line))
    return out


def parse_problem(form: Any, source: str = "<pool>", line: int = 0) -> Problem:
    """A Problem from one `(problem ...)` form, validated."""
    def fail(message: str) -> PoolError:
        return PoolError(message, (line, 1), source)

    if type(form) is not Pair or form.car is not Symbol("problem"):
        raise fail(f"expected a (problem ...) form, got {write(form)[:60]}")
    items = to_pylist(form.cdr)
    if len(items) % 2:
        raise fail("problem fields must be :key value pairs")
    fields: dict[str, Any] = {}
    for key, value in zip(items[::2], items[1::2]):
        if type(key) is not Keyword or key.name not in FIELDS:
            raise fail(f"unknown field {write(key)} (fields: {', '.join(FIELDS)})")
        if key.name in fields:
            raise fail(f"field :{key.name} given twice")
        fields[key.name] = value
    missing = [f for f in FIELDS if f not in fields]
    if missing:
        raise fail(f"problem {fields.get('id', '?')}: missing :{', :'.join(missing)}")
    pid = fields["id"]
    if type(pid) is not int:
        raise fail(f":id must be an integer, got {write(pid)}")

    def bad(message: str) -> PoolError:
        return fail(f"problem {pid}: {message}")

    category = fields["category"]
    cat = category.name if type(category) in (Symbol, Keyword) else None
    if cat not in CATEGORIES:
        raise bad(f":category must be one of {', '.join(CATEGORIES)}, got {write(category)}")
    if pid not in CATEGORIES[cat]:
        rng = CATEGORIES[cat]
        raise bad(f"id outside the {cat} range {rng.start}-{rng.stop - 1}")
    name, difficulty, description = fields["name"], fields["difficulty"], fields["description"]
    if type(name) is not str or not name:
        raise bad(":name must be a non-empty string")
    if type(difficulty) is not int or not 1 <= difficulty <= 5:
        raise bad(f":difficulty must be an integer from 1 to 5, got {write(difficulty)}")
    call, expect = fields["call"], fields["expect"]
    if type(call) is not Pair:
        raise bad(f":call must be a call such as (f 1), got {write(call)}")
    if type(description) is not str or write(call) not in description:
        raise bad(f":description must be a string that names the call {write(call)}")
    hidden = _cases(fields["hidden"], bad)
    if all(equal(c.expect, expect) for c in hidden):
        raise bad("some hidden case must expect a value other than :expect, "
                  "or a constant answer would pass")
    solution = fields["solution"]
    if type(solution) is not Pair or not all(_is_define(f) for f in solution):
        raise bad(":solution must be a list of (define ...) forms")
    names = {defined_name(f) for f in solution}
    for expr in [call] + [c.expr for c in hidden]:
        if not names & _symbols(expr):
            raise bad(f"{write(expr)} uses no name the solution defines")
    return Problem(pid, name, cat, difficulty, description, call, expect, hidden,
                   tuple(solution), source, line)


def _cases(value: Any, bad: Callable[[str], PoolError]) -> tuple[Case, ...]:
    if value is not None and type(value) is not Pair:
        raise bad(":hidden must be a list of (expression expected) pairs")
    cases = []
    for item in value or ():
        if type(item) is not Pair or len(to_pylist(item)) != 2:
            raise bad(f"hidden case {write(item)[:60]} is not (expression expected)")
        expr, expect = to_pylist(item)
        cases.append(Case(expr, expect))
    if len(cases) < 2:
        raise bad(f"at least 2 hidden cases are needed, found {len(cases)}")
    return tuple(cases)


def _is_define(form: Any) -> bool:
    if type(form) is not Pair or form.car is not DEFINE or type(form.cdr) is not Pair:
        return False
    target = form.cdr.car
    return type(target) is Symbol or (type(target) is Pair and type(target.car) is Symbol)


def _symbols(x: Any) -> set[Symbol]:
    """Every symbol in a form, at any depth."""
    out: set[Symbol] = set()
    stack = [x]
    while stack:
        x = stack.pop()
        if type(x) is Symbol:
            out.add(x)
        elif type(x) is Pair:
            stack.append(x.car)
            stack.append(x.cdr)
    return out
