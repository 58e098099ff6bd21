"""The scratchpad: the persistent record of one attempt at one problem.

A `Scratchpad` holds at most 25 `Cell`s (MAX_CELLS), each with a type
(GOAL CODE TRY CHECK NOTE DONE ERROR), the expression's text, the result's
text, the exact steps it cost, and the label of the `(sub "label" ...)` it
ran in. world/evolve/meta.py evaluates cells into it; costs are the
evaluator's own step counts, so the same cell costs the same on every run.

The problem interface (what the pool and the agent hand a scratchpad):

- `expected`: the canonical texts of the values `(done expr)` accepts (any
  one of them; empty: any value);
- `hidden`: (expression text, expected value text) pairs, evaluated through
  the scratchpad's my-eval, where the agent's definitions live, when a
  `done` value is accepted; every one must give its value;
- `checker`: the name of a comparison in `CHECKERS` (`equal` by default;
  `register_checker(name, fn)` adds one, fn(expected, actual) -> bool), so
  only data is stored, never a Python function;
- or, instead of the last three, a *task* passed at run time
  (`Meta(..., task=problem)`): any object with
  `check(evaluate, value, steps) -> result` where `result.solved` is a bool
  and `result.message()` a line of text, which is what the pool's
  `Problem.check` is. `evaluate(form, steps) -> value` runs a form through
  the scratchpad's my-eval.

`Scratchpad.from_problem(problem)` copies a pool problem's expected value
and hidden cases into a new scratchpad.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from BTrees.IOBTree import IOBTree

from ..lisp.errors import EvalError
from ..lisp.printer import write
from ..lisp.types import equal
from ..objects.format import Versioned

MAX_CELLS = 25
KINDS = ("GOAL", "CODE", "TRY", "CHECK", "NOTE", "DONE", "ERROR")
RESULT_CHARS = 400

CHECKERS: dict[str, Callable[[Any, Any], bool]] = {"equal": equal}


def register_checker(name: str, fn: Callable[[Any, Any], bool]) -> None:
    """Make `fn(expected, actual) -> bool` available to scratchpads as `name`."""
    CHECKERS[name] = fn


def _close(expected: Any, actual: Any) -> bool:
    """Numbers within 1e-9 (relative), anything else by equal?."""
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) \
            and not isinstance(expected, bool) and not isinstance(actual, bool):
        return abs(expected - actual) <= 1e-9 * max(1.0, abs(expected), abs(actual))
    return equal(expected, actual)


register_checker("close", _close)


class ScratchpadFull(EvalError):
    """The scratchpad already holds MAX_CELLS cells."""

    kind = "scratchpad full"


def clip(text: str, n: int = RESULT_CHARS) -> str:
    """`text` cut to `n` characters."""
    return text if len(text) <= n else text[:n - 3] + "..."


class Cell(Versioned):
    """One scratchpad cell: type, expression text, result text, steps, sub label."""

    format_version = 1
    kind = "CODE"
    expr = ""
    result = ""
    steps = 0
    label = ""

    def __init__(self, kind: str, expr: str, result: str, steps: int, label: str = "") -> None:
        if kind not in KINDS:
            raise ValueError(f"not a cell type: {kind}")
        self.kind, self.expr, self.result = kind, expr, clip(result)
        self.steps, self.label = steps, label

    def line(self) -> str:
        """The cell as one line of text."""
        where = f"[{self.label}] " if self.label else ""
        return f"{self.kind:5} {where}{self.expr} => {self.result} ({self.steps} steps)"

    def __repr__(self) -> str:
        return f"<Cell {self.line()}>"


class Scratchpad(Versioned):
    """The cells of one attempt at one problem, and whether it was solved."""

    format_version = 1
    problem = ""
    goal = ""
    expected: tuple[str, ...] = ()
    hidden: tuple[tuple[str, str], ...] = ()
    checker = "equal"
    status = "open"             # open, solved
    solved_by = -1              # the DONE cell that solved it
    defined: tuple[str, ...] = ()
    started = 0.0
    token = ""                  # names this attempt in its lineage's transactions (lineage.settle)

    def __init__(self, problem: str = "", goal: str = "", expected: tuple[str, ...] = (),
                 hidden: tuple[tuple[str, str], ...] = (), checker: str = "equal") -> None:
        if checker not in CHECKERS:
            raise ValueError(f"no checker named {checker!r}")
        self.problem, self.goal = problem, goal
        self.expected, self.hidden, self.checker = tuple(expected), tuple(hidden), checker
        self.cells = IOBTree()
        self.started = time.time()
        self.token = uuid.uuid4().hex

    @classmethod
    def from_problem(cls, problem: Any) -> "Scratchpad":
        """A scratchpad for a pool problem (its id, description, expected value, hidden cases)."""
        hidden = tuple((write(c.expr), write(c.expect)) for c in getattr(problem, "hidden", ()))
        return cls(str(getattr(problem, "id", "")), getattr(problem, "description", ""),
                   (write(problem.expect),) if hasattr(problem, "expect") else (), hidden)

    # ------------------------------------------------------------ cells
    def __len__(self) -> int:
        return len(self.cells)

    def room(self) -> int:
        """How many more cells fit."""
        return MAX_CELLS - len(self.cells)

    def require_room(self) -> None:
        """Raise ScratchpadFull if no cell fits any more."""
        if self.room() <= 0:
            raise ScratchpadFull(f"the scratchpad of problem {self.problem or '?'} is full: "
                                 f"at most {MAX_CELLS} cells per problem")

    def add(self, kind: str, expr: str, result: str, steps: int, label: str = "") -> Cell:
        """Append a cell; ScratchpadFull once MAX_CELLS are there."""
        self.require_room()
        cell = Cell(kind, expr, result, steps, label)
        self.cells[len(self.cells)] = cell
        return cell

    def all(self) -> list[Cell]:
        """The cells, oldest first."""
        return list(self.cells.values())

    def steps(self) -> int:
        """Steps spent on this problem so far."""
        return sum(c.steps for c in self.cells.values())

    def note_defined(self, name: str) -> None:
        """Remember that a cell defined `name` (for show-env)."""
        if name not in self.defined:
            self.defined = self.defined + (name,)

    def mark_solved(self) -> None:
        """The last cell, a DONE, solved the problem."""
        self.status, self.solved_by = "solved", len(self.cells) - 1

    def text(self) -> str:
        """Every cell as numbered lines."""
        return "\n".join(f"{i:2}. {c.line()}" for i, c in self.cells.items())

    def __repr__(self) -> str:
        return f"<Scratchpad {self.problem} {self.status} {len(self.cells)} cells>"
