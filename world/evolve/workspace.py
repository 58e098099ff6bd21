"""Where a lineage solves a problem: each form the agent sends becomes one
scratchpad cell, evaluated in the lineage's own world under the steps left,
through the lineage's my-eval (the ground evaluator runs only the
metacognitive forms: extend-eval!, edit-eval!, defnative!, show-eval...).

A cell's type follows its head: `(goal ...)` GOAL, `(note ...)` NOTE,
`(try e)` TRY (an error is a result, not a failure), `(check expected e)`
CHECK, `(done e)` DONE, anything else CODE; a form that fails is an ERROR
cell. `(done e)` solves the problem only when `e`'s value equals the
expected value and every hidden case passes against the definitions the
lineage made (`Problem.check` of the pool), so a hard-coded answer does
not pass. Step costs are the evaluator's exact counts, so the same cell
costs the same on every run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..lisp.errors import BudgetExceeded, LispError
from ..lisp.printer import write
from ..lisp.types import Pair, Symbol, make_list

MY_EVAL = Symbol("my-eval")
QUOTE = Symbol("quote")
# Forms the ground evaluator runs itself: they act on the evaluator, not through it.
GROUND = {"extend-eval!", "edit-eval!", "defnative!", "show-eval", "eval-history",
          "eval-rollback!", "eval-natives", "eval-constructs", "eval-mode", "show-env",
          "with-limit", "sub", "goal", "note", "inspect", "eval-in"}
RESULT_CHARS = 300          # a cell's result text is cut to this many characters
HIDDEN_STEPS = 1500         # budget of each hidden case (the harness's, not the agent's)
CHANGES = {"extend-eval!", "edit-eval!"}
ERROR_STEPS = 1             # a failed cell's charge (the evaluator does not report its count)


@dataclass
class CellOutcome:
    """What evaluating one cell did."""

    kind: str
    text: str
    result: str
    steps: int
    solved: bool = False
    change: str = ""            # "extend-eval!", "edit-eval!" or "defnative!" when one succeeded


def clip(text: str, n: int = RESULT_CHARS) -> str:
    """`text` cut to `n` characters."""
    return text if len(text) <= n else text[:n - 3] + "..."


def head(form: Any) -> str:
    """The name at the head of a form, or ''."""
    return form.car.name if type(form) is Pair and type(form.car) is Symbol else ""


def _arg(form: Any, n: int) -> Any:
    x = form.cdr
    for _ in range(n):
        x = x.cdr if type(x) is Pair else None
    if type(x) is not Pair:
        raise LispError(f"{head(form)}: expected at least {n + 1} argument(s)")
    return x.car


class Workspace:
    """One lineage's world, seen as a scratchpad for one problem at a time."""

    def __init__(self, world: Any) -> None:
        self.world = world

    @property
    def through_my_eval(self) -> bool:
        """Whether the lineage has a my-eval to run its code through."""
        return self.world.env.is_bound(MY_EVAL)

    def evaluate(self, form: Any, steps: int) -> tuple[Any, int]:
        """Evaluate `form` in the lineage's world within `steps`; return value and steps used."""
        name = head(form)
        if (self.through_my_eval and name not in GROUND
                and not (name and Symbol(name) in self.world.env.macros)):
            form = make_list([MY_EVAL, make_list([QUOTE, form]), make_list([QUOTE, None])])
        result = self.world.eval_form(form, steps=max(1, steps), source="<cell>")
        return result.value, result.steps

    def run_cell(self, task: Any, form: Any, text: str, steps_left: int,
                 natives_left: int | None = None) -> CellOutcome:
        """Evaluate one form as one cell within `steps_left`."""
        kind = {"goal": "GOAL", "note": "NOTE", "try": "TRY", "check": "CHECK",
                "done": "DONE"}.get(head(form), "CODE")
        if kind in ("GOAL", "NOTE"):
            x = _arg(form, 0) if type(form.cdr) is Pair else ""
            return CellOutcome(kind, text, clip(x if type(x) is str else write(x)), 0)
        if head(form) == "defnative!" and natives_left is not None and natives_left <= 0:
            return CellOutcome("ERROR", text, "refused: this round's cap on natives is reached", 0)
        try:
            if kind == "TRY":
                return self._try(form, text, steps_left)
            if kind == "CHECK":
                return self._check(form, text, steps_left)
            if kind == "DONE":
                if task is None:
                    return CellOutcome("NOTE", text, "there is no problem to submit now", 0)
                return self._done(task, form, text, steps_left)
            value, used = self.evaluate(form, steps_left)
        except BudgetExceeded as e:
            return CellOutcome("ERROR", text, clip(str(e)), steps_left if e.budget == "steps" else 0)
        except LispError as e:
            return CellOutcome("ERROR", text, clip(str(e)), ERROR_STEPS)
        change = head(form) if head(form) in CHANGES | {"defnative!"} else ""
        return CellOutcome("CODE", text, clip(write(value)), used, change=change)

    def _try(self, form: Any, text: str, steps_left: int) -> CellOutcome:
        try:
            value, used = self.evaluate(_arg(form, 0), steps_left)
        except BudgetExceeded:
            raise
        except LispError as e:
            return CellOutcome("TRY", text, clip(f"error: {e}"), 0)
        return CellOutcome("TRY", text, clip(write(value)), used)

    def _check(self, form: Any, text: str, steps_left: int) -> CellOutcome:
        expected, u1 = self.evaluate(_arg(form, 0), steps_left)
        actual, u2 = self.evaluate(_arg(form, 1), steps_left - u1)
        ok = write(expected) == write(actual)
        verdict = "pass" if ok else f"fail: got {write(actual)}, expected {write(expected)}"
        return CellOutcome("CHECK", text, clip(verdict), u1 + u2)

    def _done(self, task: Any, form: Any, text: str, steps_left: int) -> CellOutcome:
        value, used = self.evaluate(_arg(form, 0), steps_left)
        verdict = task.check(lambda f, steps: self.evaluate(f, steps)[0], value, HIDDEN_STEPS)
        return CellOutcome("DONE", text, clip(verdict.message()), used, solved=verdict.solved)
