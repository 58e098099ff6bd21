"""The text the agent is shown: the rules (system prompt), one problem's
state (description, steps left, the lineage's my-eval, the scratchpad so
far, persistent helpers, notes from earlier failures), and the reflection
prompt between rounds. Plain functions from data to text.
"""
from __future__ import annotations

from typing import Any, Iterable

SYSTEM = """\
You are an agent in World, a persistent Lisp (a Scheme with keywords, maps and vectors).
You solve Lisp problems inside a scratchpad under a step budget. Every form you send is
evaluated as one scratchpad cell, in your lineage's own namespace, through your lineage's
evaluator my-eval. Definitions you make persist to your later problems.

Put your Lisp forms, at most {forms} per reply, in ```lisp code blocks (or, with no block,
on lines of their own). Prose outside them is never evaluated and costs no cell.
`eval` runs through my-eval. Useful forms:
  (define (name args) body)      a helper (kept for later problems)
  (try expr)  (check expected expr)  (note "text")  (goal "text")
  (done expr)                    submit: solves the problem when expr's value is the expected
                                 one and hidden test cases pass against your definitions
  (extend-eval! 'name '(lambda (expr env) ...))   add a special form to my-eval (quoted source)
  (edit-eval! '(define (my-eval expr env) ...))   replace my-eval
      a change that makes my-eval do something new earns +{bonus} steps; repeats earn nothing
  (defnative! name (params) body)                 a helper run by the ground evaluator, capped per round
  (show-eval)                    my-eval's source
A problem ends when done succeeds, the steps run out, or {cells} cells are used.
"""

REFLECTION = """\
Round {round} is over: you solved {solved} of {attempted} problems using {steps} steps.
Next round: budget {budget} steps per problem, at most {cap} natives.
Evolve my-eval for the next round: make common work cheaper, add special forms that would
have helped. Each extend-eval! or edit-eval! that makes my-eval do something new earns
+{bonus} steps per problem next round. Send at most {forms} forms; send (note "...") if you want no change.
"""


def system_prompt(settings: dict[str, Any]) -> str:
    """The rules of the game, from the run's settings."""
    return SYSTEM.format(forms=settings["max_forms"], bonus=settings["change_bonus"],
                         cells=settings["max_cells"])


def _section(title: str, body: str) -> str:
    return f"## {title}\n{body.rstrip()}\n"


def scratchpad_text(cells: Iterable[Any]) -> str:
    """The scratchpad as numbered lines: type, form, result, steps."""
    lines = []
    for n, c in enumerate(cells, 1):
        label = f" [{c.label}]" if getattr(c, "label", "") else ""
        lines.append(f"[{n}] {c.kind:5}{label} {c.expr}\n      => {c.result}  ({c.steps} steps)")
    return "\n".join(lines) if lines else "(empty)"


def cap_text(cap: int | None) -> str:
    """A native cap as words."""
    return "no limit on" if cap is None else str(cap)


def problem_prompt(task: Any, steps_left: int, budget: int, cells_left: int, evaluator: str,
                   cells: Iterable[Any], helpers: list[tuple[str, str]], failures: list[str],
                   feedback: str, natives: int, cap: int | None) -> str:
    """The prompt for one turn of one problem."""
    parts = [
        _section("Problem", task.brief()),
        _section("Budget", f"{steps_left} of {budget} steps left; {cells_left} cells left; "
                           f"natives: {natives} used, {cap_text(cap)} allowed."),
        _section("Your evaluator (my-eval)", evaluator or "(the ground evaluator)"),
        _section("Scratchpad so far", scratchpad_text(cells)),
        _section("Your helpers (persistent)",
                 "\n".join(f"{name}: {src}" for name, src in helpers) or "(none yet)"),
    ]
    if failures:
        parts.append(_section("Notes from earlier attempts", "\n".join(f"- {f}" for f in failures)))
    if feedback:
        parts.append(_section("About your last reply", feedback))
    parts.append("Reply with the next forms.")
    return "\n".join(parts)


def reflection_prompt(settings: dict[str, Any], round_no: int, solved: int, attempted: int,
                      steps: int, budget: int, cap: int | None, evaluator: str,
                      helpers: list[tuple[str, str]], failures: list[str], cells: Iterable[Any],
                      feedback: str) -> str:
    """The prompt of the reflection phase after round `round_no`."""
    head = REFLECTION.format(round=round_no, solved=solved, attempted=attempted, steps=steps,
                             budget=budget, cap=cap_text(cap), bonus=settings["reflection_bonus"],
                             forms=settings["max_forms"])
    parts = [head, _section("Your evaluator (my-eval)", evaluator or "(the ground evaluator)"),
             _section("Your helpers (persistent)",
                      "\n".join(f"{name}: {src}" for name, src in helpers) or "(none yet)")]
    if failures:
        parts.append(_section("Problems that failed", "\n".join(f"- {f}" for f in failures)))
    parts.append(_section("Reflection so far", scratchpad_text(cells)))
    if feedback:
        parts.append(_section("About your last reply", feedback))
    return "\n".join(parts)
