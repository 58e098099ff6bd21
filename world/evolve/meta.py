"""Metacognitive forms: evaluating scratchpad cells.

Each top-level form of a cell's text becomes one cell of a `Scratchpad`:

    (goal "text")             GOAL   the ground records the text
    (note "text")             NOTE   likewise
    (show-env)                NOTE   what this problem defined, the natives, my-eval's forms
    (try expr)                TRY    expr through my-eval; an error is its result, not a failure
    (check expected expr)     CHECK  both through my-eval; pass, or fail with both values
    (done expr)               DONE   expr through my-eval, then the problem's check
    (sub "label" body...)     ...    each form of body as a cell of its own, labelled
    (with-limit steps form)   ...    form (any of these) with at most `steps` steps
    anything else             CODE   through my-eval; a form headed by a ground macro
                                     (defnative!) runs on the ground
    a form that fails         ERROR  its one-line message

These forms exist only here, in the dispatch on a cell's head: nothing is
bound in the environment, so they collide with no world name (a top-level
`check` in the world is history's). The ground handles the control; `try`,
`check`, `done` and `sub` run their content through the environment's
current my-eval. Steps are the evaluator's exact counts, also for a form
that fails (a budget overrun costs its whole budget); GOAL and NOTE cost 1,
and so does a malformed metacognitive form. `sub` records no cell of its
own: each form of its body is a cell, with the sub's label.

A run without metacognition (`--no-metacognition`, world/evolve/ablations.py)
makes a `Meta(..., metacognition=False)`: every form above but `done` is then
refused with one line (an ERROR cell costing 1 step); plain code and `done`
run as usual.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from ..lisp import budget
from ..lisp.budget import Meter
from ..lisp.errors import BudgetExceeded, Interrupted, LispError, LispSyntaxError
from ..lisp.printer import write
from ..lisp.reader import read, read_spans
from ..lisp.runtime import _run_in, on_big_stack
from ..lisp.types import Keyword, LispMap, Pair, Symbol, make_list, to_pylist
from . import evalprims
from .evaluator import MY_EVAL, defined_name
from .ablations import metacognition_refusal
from .agent_errors import cell_error
from .scratchpad import CHECKERS, RESULT_CHARS, Scratchpad

QUOTE = Symbol("quote")
HIDDEN_STEPS = 1500         # each hidden case's budget (the harness's, not the agent's)
NOTE_STEPS = 1              # what a GOAL, NOTE or show-env cell costs
FORMS = ("goal", "note", "show-env", "try", "check", "done", "sub", "with-limit")


class Failed(Exception):
    """A cell's evaluation failed: the error and the steps it used."""

    def __init__(self, error: LispError, steps: int) -> None:
        self.error, self.steps = error, steps


def measured(env: Any, form: Any, steps: int) -> tuple[Any, int]:
    """Evaluate `form` in env within `steps`; (value, steps used), or raise Failed with the count."""
    meter = Meter(env.ns, replace(env.limits, steps=steps))
    # The cell's score is its program's own work; the host's bookkeeping on its behalf
    # (recording definitions, validating evaluator changes) runs under its own allowance.
    meter.host_free = True
    try:
        if budget.running() is not None:
            value = _run_in(env, form, meter, "<cell>")
        else:
            value = on_big_stack(lambda: _run_in(env, form, meter, "<cell>"))
    except Interrupted:
        raise
    except Exception as e:      # anything a form can raise is the cell's result, never the run's end
        raise Failed(cell_error(e), min(meter.base, steps)) from None
    return value, meter.base


def metered(env: Any, work: Callable[[], Any], steps: int, spent: int = 0) -> tuple[Any, int]:
    """Host work on a cell's values (comparing them) within `steps`: (result, steps used),
    or raise Failed with `spent` plus what it used."""
    def go() -> tuple[Any, int]:
        meter = Meter({"_n": 0}, replace(env.limits, steps=max(steps, 0)))
        meter.start()
        try:
            return work(), meter.base
        except Interrupted:
            raise
        except Exception as e:
            raise Failed(cell_error(e), spent + min(meter.base, steps)) from None
        finally:
            meter.stop()
    return on_big_stack(go)         # where every meter runs, so they form one chain


class Meta:
    """Evaluates cells into `pad` in `env` through env's my-eval, within a step budget."""

    def __init__(self, env: Any, pad: Scratchpad, steps: int | None = None, task: Any = None,
                 metacognition: bool = True) -> None:
        self.env, self.pad, self.task = env, pad, task
        self.metacognition = metacognition
        self.budget = env.limits.steps if steps is None else steps
        self.label = ""
        evalprims.ensure(env)

    def left(self) -> int:
        """Steps left for this problem."""
        return max(0, self.budget - self.pad.steps())

    # ------------------------------------------------------------ entry points
    def run(self, text: str) -> list[Any]:
        """Evaluate each form of `text` as a cell; return the cells made."""
        first = len(self.pad)
        for form, a, b in read_spans(text, "<cell>"):
            self.cell(form, text[a:b])
        return self.pad.all()[first:]

    def cell(self, form: Any, text: str | None = None, limit: int | None = None) -> Any:
        """Evaluate one form as one cell (or several, for sub); return the value or None."""
        self.pad.require_room()
        text = write(form) if text is None else text
        limit = self.left() if limit is None else min(limit, self.left())
        name = form.car.name if type(form) is Pair and type(form.car) is Symbol else ""
        handler = getattr(self, "_" + name.replace("-", "_"), None) if name in FORMS else None
        try:
            if handler is not None:
                if not self.metacognition and name != "done":
                    raise Failed(metacognition_refusal(name), 0)
                return handler(form, text, limit)
            value, used = self.code(form, limit)
        except Failed as f:
            cost = max(1, f.steps) if limit > 0 else 0
            self.pad.add("ERROR", text, f"{f.error.kind}: {f.error.message}", cost, self.label)
            return None
        self.pad.add("CODE", text, write(value, RESULT_CHARS), used, self.label)
        defined = defined_name(form)
        if defined is None and name == "defnative!" and type(form.cdr) is Pair:
            defined = form.cdr.car
        if type(defined) is Symbol:
            self.pad.note_defined(defined.name)
        return value

    # ------------------------------------------------------------ evaluating
    def code(self, form: Any, limit: int) -> tuple[Any, int]:
        """A form through my-eval (or on the ground, if a ground macro heads it)."""
        if not (type(form) is Pair and type(form.car) is Symbol and form.car in self.env.macros):
            form = make_list([MY_EVAL, make_list([QUOTE, form]), make_list([QUOTE, None])])
        return measured(self.env, form, max(limit, 0))

    def evaluate(self, form: Any, steps: int) -> Any:
        """`evaluate(form, steps) -> value` for a task's check: through my-eval."""
        try:
            return self.code(form, steps)[0]
        except Failed as f:
            raise f.error from None

    @staticmethod
    def _args(form: Any, n: int, shape: str) -> list[Any]:
        args = to_pylist(form.cdr, shape) if form.cdr is not None else []
        if len(args) < n:
            raise Failed(LispSyntaxError(f"expected {shape}"), 0)
        return args

    def _text_cell(self, kind: str, form: Any, text: str) -> str:
        arg = self._args(form, 1, f"({form.car.name} \"text\")")[0]
        shown = arg if type(arg) is str else write(arg, RESULT_CHARS)
        self.pad.add(kind, text, shown, NOTE_STEPS, self.label)
        return shown

    # ------------------------------------------------------------ the forms
    def _goal(self, form: Any, text: str, limit: int) -> str:
        return self._text_cell("GOAL", form, text)

    def _note(self, form: Any, text: str, limit: int) -> str:
        return self._text_cell("NOTE", form, text)

    def _show_env(self, form: Any, text: str, limit: int) -> LispMap:
        slot = evalprims.slot_for(self.env)
        version = slot.version()
        value = LispMap([(Keyword("defined"), make_list([Symbol(n) for n in self.pad.defined])),
                         (Keyword("natives"), make_list([Symbol(n) for n in slot.natives.keys()])),
                         (Keyword("forms"), make_list([Symbol(n) for n in version.forms])),
                         (Keyword("version"), version.seq)])
        self.pad.add("NOTE", text, write(value), NOTE_STEPS, self.label)
        return value

    def _try(self, form: Any, text: str, limit: int) -> Any:
        expr = self._args(form, 1, "(try expr)")[0]
        try:
            value, used = self.code(expr, limit)
        except Failed as f:
            if isinstance(f.error, BudgetExceeded):
                raise
            self.pad.add("TRY", text, f"error: {f.error.kind}: {f.error.message}", f.steps, self.label)
            return None
        self.pad.add("TRY", text, write(value, RESULT_CHARS), used, self.label)
        return value

    def _check(self, form: Any, text: str, limit: int) -> bool:
        expected_form, expr = self._args(form, 2, "(check expected expr)")[:2]
        expected, u1 = self.code(expected_form, limit)
        try:
            actual, u2 = self.code(expr, limit - u1)
        except Failed as f:
            raise Failed(f.error, u1 + f.steps) from None
        same = CHECKERS[self.pad.checker]
        ok, u3 = metered(self.env, lambda: same(expected, actual), limit - u1 - u2, u1 + u2)
        verdict = ("pass" if ok else f"fail: expected {write(expected, RESULT_CHARS // 2)}, "
                   f"got {write(actual, RESULT_CHARS // 2)}")
        self.pad.add("CHECK", text, verdict, u1 + u2 + u3, self.label)
        return ok

    def _done(self, form: Any, text: str, limit: int) -> bool:
        expr = self._args(form, 1, "(done expr)")[0]
        value, used = self.code(expr, limit)
        if self.task is not None:
            result = self.task.check(self.evaluate, value, HIDDEN_STEPS)
            solved, message = bool(result.solved), result.message()
        else:
            solved, message = self._verdict(value)
        shown = message if not solved else f"solved: {write(value, RESULT_CHARS)}"
        self.pad.add("DONE", text, shown, used, self.label)
        if solved:
            self.pad.mark_solved()
        return solved

    def _verdict(self, value: Any) -> tuple[bool, str]:
        """Check a done value against the scratchpad's expected values and hidden cases."""
        same = CHECKERS[self.pad.checker]
        expected = [read(t) for t in self.pad.expected]
        if expected and not any(same(e, value) for e in expected):
            return False, (f"not solved: expected {' or '.join(self.pad.expected)}, "
                           f"got {write(value, RESULT_CHARS)}")
        for expr_text, want_text in self.pad.hidden:
            want = read(want_text)
            try:
                got = self.evaluate(read(expr_text), HIDDEN_STEPS)
            except Interrupted:
                raise
            except Exception as e:
                err = cell_error(e)
                return False, f"not solved: a hidden case raised {err.kind}: {err.message}"
            if not same(want, got):
                return False, "not solved: a hidden case gave the wrong value"
        return True, "solved"

    def _sub(self, form: Any, text: str, limit: int) -> Any:
        args = self._args(form, 1, "(sub \"label\" body...)")
        label = args[0] if type(args[0]) is str else write(args[0], 60)
        outer, self.label = self.label, label
        value = None
        try:
            for inner in args[1:]:
                value = self.cell(inner, limit=limit)
        finally:
            self.label = outer
        return value

    def _with_limit(self, form: Any, text: str, limit: int) -> Any:
        steps, inner = self._args(form, 2, "(with-limit steps form)")[:2]
        if type(steps) is not int or steps < 0:
            raise Failed(LispSyntaxError("with-limit: the limit must be a whole number of steps"), 0)
        return self.cell(inner, text, min(steps, limit))


def run_in_world(world: Any, pad: Scratchpad, text: str, steps: int | None = None,
                 task: Any = None) -> list[Any]:
    """Evaluate `text` as cells of `pad` in a world's environment, in one transaction."""
    return world._change(lambda: Meta(world.env, pad, steps, task).run(text),
                         f"scratchpad {pad.problem}: {text[:60]}")
