"""The text the agent is shown: the rules (system prompt, with the handler
API of world/evolve/handler_api.py), one problem's state (description, steps
left, the lineage's my-eval pretty-printed, the scratchpad so far, persistent
helpers with natives marked, notes from earlier failures), and the reflection
prompt between rounds, with every problem of the round. Plain functions from
data to text, deterministic (no times), since a replay is keyed by the prompt.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Collection, Iterable

from . import handler_api
from .seeding import pretty

NOTE_CHARS = 160            # each line of a failure note is clipped to this
EXPR_CHARS = 70             # a failing cell's expression, in a note
PRETTY_DEPTH = 40           # an evaluator nested deeper is shown on one line

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
  (sub "label" form...)          each form a cell of its own, labelled, within the same budget
  (with-limit steps form)        form (any of these) with at most `steps` steps
  (show-env)                     what this problem defined, your natives, my-eval's forms
  (extend-eval! 'name '(lambda (expr env) ...))   add a special form to my-eval (quoted source)
  (edit-eval! '(define (my-eval expr env) ...))   replace my-eval
      a change that makes my-eval do something new earns +{bonus} steps; repeats earn nothing
  (defnative! name (params) body)                 a helper run by the ground evaluator (cheaper
                                                  than through my-eval), capped per round;
                                                  marked [native] in your helper list
  (show-eval)                    my-eval's source
  (eval-rollback! n)  (eval-history)   make my-eval's version n current again; its versions
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
    """The rules of the game, from the run's settings, and the handler API."""
    rules = SYSTEM.format(forms=settings["max_forms"], bonus=settings["change_bonus"],
                          cells=settings["max_cells"])
    return f"{rules}\n{handler_api.text()}\n"


def _section(title: str, body: str) -> str:
    return f"## {title}\n{body.rstrip()}\n"


def clip(text: str, n: int) -> str:
    """`text` on one line, cut to `n` characters."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


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


@lru_cache(maxsize=64)
def evaluator_text(source: str) -> str:
    """my-eval's source pretty-printed, and which forms the seed lacked it now handles."""
    if not source.strip():
        return "(the ground evaluator)"
    added = handler_api.added_forms(source)
    tail = f"\n(of the forms the seed lacks, it now handles: {' '.join(added)})" if added else ""
    # Indentation grows with nesting: a deeply nested evaluator is shown on one line, so a
    # hostile one cannot blow a prompt (and its cost) up quadratically.
    shown = pretty(source) if _nesting(source) <= PRETTY_DEPTH else source
    return shown + tail


def _nesting(source: str) -> int:
    """How deep the parentheses of `source` nest (outside strings; a display heuristic)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in source:
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = ch == "\\", ch != '"'
        elif ch == '"':
            in_string = True
        elif ch in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]":
            depth -= 1
    return deepest


def helpers_text(helpers: list[tuple[str, str]], natives: Collection[str] = ()) -> str:
    """The lineage's helpers, one a line, natives marked."""
    return "\n".join(f"{name}{' [native]' if name in natives else ''}: {src}"
                     for name, src in helpers) or "(none yet)"


# ---------------------------------------------------------------- outcomes of attempts

def _failed_cell(c: Any) -> bool:
    """An ERROR cell, a DONE whose check failed, or a CHECK that failed."""
    return (c.kind == "ERROR" or c.kind == "DONE" and not c.result.startswith("solved")
            or c.kind == "CHECK" and c.result.startswith("fail"))


def last_error(cells: Iterable[Any]) -> str:
    """The last failing cell as `form => message` ('' if none failed); a failed done's
    message names the failing case (a hidden case's expression stays hidden)."""
    last = None
    for c in cells:
        if _failed_cell(c):
            last = c
    if last is None:
        return ""
    return f"{clip(last.expr, EXPR_CHARS)} => {last.result}"


def _usage(att: Any) -> str:
    return f"{att.steps} of {att.budget} steps, {len(att.cells)} cells"


def failure_note(att: Any) -> str:
    """A failed attempt in one or two clipped lines: how it ended, the steps and cells it
    used, and its last error with the failing case."""
    head = clip(f"problem {att.problem} ({att.name}) failed: {att.why}; {_usage(att)}", NOTE_CHARS)
    err = last_error(att.cells.values())
    return head + (f"\n  last error: {clip(err, NOTE_CHARS - 14)}" if err else "")


def outcome_line(att: Any) -> str:
    """One problem of a round for reflection: id, name, category, outcome, steps, cells."""
    what = f"problem {att.problem} ({att.name}; {att.category}): "
    if att.solved:
        return clip(what + f"solved, {_usage(att)}", NOTE_CHARS)
    err = last_error(att.cells.values())
    line = clip(what + f"failed ({att.why}), {_usage(att)}", NOTE_CHARS)
    return line + (f"\n  last error: {clip(err, NOTE_CHARS - 14)}" if err else "")


# ---------------------------------------------------------------- the prompts

def problem_prompt(task: Any, steps_left: int, budget: int, cells_left: int, evaluator: str,
                   cells: Iterable[Any], helpers: list[tuple[str, str]], failures: list[str],
                   feedback: str, natives: int, cap: int | None,
                   native_names: Collection[str] = ()) -> str:
    """The prompt for one turn of one problem."""
    parts = [
        _section("Problem", task.brief()),
        _section("Budget", f"{steps_left} of {budget} steps left; {cells_left} cells left; "
                           f"natives: {natives} used, {cap_text(cap)} allowed."),
        _section("Your evaluator (my-eval)", evaluator_text(evaluator)),
        _section("Scratchpad so far", scratchpad_text(cells)),
        _section("Your helpers (persistent)", helpers_text(helpers, native_names)),
    ]
    if failures:
        parts.append(_section("Notes from earlier attempts", "\n".join(f"- {f}" for f in failures)))
    if feedback:
        parts.append(_section("About your last reply", feedback))
    parts.append("Reply with the next forms.")
    return "\n".join(parts)


def reflection_prompt(settings: dict[str, Any], round_no: int, solved: int, attempted: int,
                      steps: int, budget: int, cap: int | None, evaluator: str,
                      helpers: list[tuple[str, str]], problems: list[str], cells: Iterable[Any],
                      feedback: str, native_names: Collection[str] = ()) -> str:
    """The prompt of the reflection phase after round `round_no`; `problems` holds one
    `outcome_line` for each problem of the round."""
    head = REFLECTION.format(round=round_no, solved=solved, attempted=attempted, steps=steps,
                             budget=budget, cap=cap_text(cap), bonus=settings["reflection_bonus"],
                             forms=settings["max_forms"])
    parts = [head, _section("Your evaluator (my-eval)", evaluator_text(evaluator)),
             _section("Your helpers (persistent)", helpers_text(helpers, native_names))]
    if problems:
        parts.append(_section("Problems of this round", "\n".join(f"- {p}" for p in problems)))
    parts.append(_section("Reflection so far", scratchpad_text(cells)))
    if feedback:
        parts.append(_section("About your last reply", feedback))
    return "\n".join(parts)
