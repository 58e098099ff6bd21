"""The agent loop: one problem attempt, and the reflection phase.

An attempt builds the prompt (problem, steps left, my-eval's source, the
scratchpad, persistent helpers, notes from earlier failures: how each ended,
its steps, its last error), asks the
player, extracts at most five forms, and evaluates each as one scratchpad
cell, until `(done ...)` succeeds, the steps run out, or the cells do. A crash
loses at most the attempt in flight: a resumed run starts it over.
(The records are committed after each turn, the last one with the outcome;
the cells' own definitions are committed form by form by the lineage's world.)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .agent_errors import ModelError
from .evalprims import change_mark, earned, remember_solved
from . import ablations, personalities
from .extract import extract
from .lineage import Attempt, Lineage, Round, Run, Turn
from .model import Reply
from .players import GAVE_UP
from .prompt import failure_note, outcome_line, problem_prompt, reflection_prompt, system_prompt
from .seeding import evaluator_of, helpers_of
from .scratchpad import Scratchpad
from .slot import world_slot
from .spend import check as check_cost
from .workspace import CHANGES, Workspace

FAILURE_NOTES = 6           # notes from earlier failed attempts shown in a prompt


@dataclass
class Context:
    """Everything one lineage's attempts need."""

    image: Any                  # the records' image (run, lineage, rounds live here)
    run: Run
    lineage: Lineage
    world: Any                  # the lineage's own world
    player: Any
    tasks: dict[int, Any]       # pool problems by id
    base: tuple[str, ...]       # the names of the evaluator
    progress: Callable[[dict[str, Any]], Any] = lambda event: None
    failures: list[str] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, Any]:
        return self.run.settings

    def commit(self, note: str) -> None:
        """Commit the records' transaction."""
        tm = self.image.tm
        tm.get().note(note)
        tm.commit()

    def event(self, **kw: Any) -> None:
        self.progress(dict(kw, lineage=self.lineage.name))


def _count(ctx: Context, att: Attempt, reply: Reply) -> None:
    calls = len(reply.attempts)
    for usage in (att.usage, ctx.lineage.usage, ctx.run.usage):
        usage.add(calls, reply.tokens_in, reply.tokens_out, reply.cost,
                  reply.cache_write, reply.cache_read)


def _ask(ctx: Context, att: Attempt, key: str, prompt: str, context: dict[str, Any]) -> Reply | str:
    """The player's reply, recorded as a turn; or why there is none."""
    system = personalities.system_text(ablations.system_text(system_prompt(ctx.settings),
                                                             ctx.settings),
                                       ctx.settings, ctx.lineage.index)
    n = len(att.turns)
    check_cost(ctx.run)         # --max-cost: stop before a call, the attempt starts over on resume
    try:
        reply = ctx.player.reply(key, system, prompt, context)
    except ModelError as e:
        calls = tuple(a.as_dict() for a in (e.reply.attempts if e.reply else ()))
        att.turns[n] = Turn(n, prompt, "", ctx.player.label, calls, str(e))
        if e.reply is not None:
            _count(ctx, att, e.reply)
        return f"model error: {e.message}"
    att.turns[n] = Turn(n, prompt, reply.text, reply.model,
                        tuple(a.as_dict() for a in reply.attempts), "")
    _count(ctx, att, reply)
    return reply


def solve(ctx: Context, rnd: Round, pos: int, task: Any) -> Attempt:
    """Attempt problem `task` as position `pos` of round `rnd`; return the finished attempt."""
    s = ctx.settings
    budget = rnd.budget + rnd.bonus
    att = Attempt(task.id, task.name, task.category, budget, Scratchpad.from_problem(task))
    rnd.attempts[pos] = att         # committed with its first turn
    ws = Workspace(ctx.world, att.pad, task, s)
    ws.cap_natives(rnd.native_cap)
    used, feedback, why, since = 0, "", "", 0     # since: the last reply's first cell
    while True:
        if att.solved:
            why = "solved"
        elif used >= att.budget:
            why = "budget spent"
        elif len(att.cells) >= s["max_cells"]:
            why = "cells used up"
        elif len(att.turns) >= s["max_turns"]:
            why = "turns used up"
        if why:
            break
        turn = len(att.turns)
        if turn:        # the previous turn's records; the last turn is committed with the outcome
            ctx.commit(f"evolve: {ctx.lineage.name} turn {turn - 1} of problem {task.id}")
        ctx.event(phase="problem", round=rnd.number, problem=task.id, steps=used,
                  budget=att.budget, turn=turn)
        prompt = problem_prompt(task, att.budget - used, att.budget, s["max_cells"] - len(att.cells),
                                evaluator_of(ctx.world, ctx.base),
                                ablations.shown_cells(att.cells.values(), s, since),
                                helpers_of(ctx.world, ctx.base),
                                ablations.shown_failures(ctx.failures[-FAILURE_NOTES:], s),
                                feedback, ctx.lineage.natives, rnd.native_cap, native_names(ctx))
        prompt = ablations.problem_text(prompt, s)
        key = f"{ctx.lineage.name}/r{rnd.number}/{pos}-{task.id}/t{turn}"
        reply = _ask(ctx, att, key, prompt, {"task": task, "turn": turn})
        if isinstance(reply, str):
            why = reply
            break
        if reply.stop_reason == GAVE_UP:
            why = "the player gave up"
            break
        ex = extract(reply.text, s["max_forms"])
        feedback = ex.feedback()
        att.turns[len(att.turns) - 1].notes = feedback     # shown next turn; costs no cell
        since = len(att.cells)
        for form, text in ex.forms:
            if len(att.cells) >= s["max_cells"] or used >= att.budget:
                break
            mark = change_mark(ctx.world)
            out = ws.run_cell(form, text, att.budget)
            used = att.pad.steps()
            if out.change in CHANGES:
                att.changes += 1
                if earned(ctx.world, mark):     # only a change my-eval behaves differently for
                    att.bonus += s["change_bonus"]
                    att.budget += s["change_bonus"]
            ctx.lineage.natives = ws.natives()
            att.steps = used
            if out.solved:
                att.solved = True
                remember_solved(ctx.world, task)    # later evaluator changes must still solve it
                break
    att.steps, att.why, att.finished = used, why, time.time()
    att.status = "solved" if att.solved else "failed"
    if not att.solved:
        ctx.failures.append(failure_note(att))     # the same note a resume rebuilds
    ctx.lineage.evaluator = evaluator_of(ctx.world, ctx.base)
    ctx.commit(f"evolve: {ctx.lineage.name} problem {task.id} {att.status}")
    ctx.event(phase="problem-done", round=rnd.number, problem=task.id, steps=used,
              budget=att.budget, solved=att.solved)
    return att


def reflect(ctx: Context, rnd: Round, next_budget: int, next_cap: int | None) -> Attempt:
    """The reflection phase after round `rnd`: the player may evolve my-eval for the next round."""
    s = ctx.settings
    att = Attempt(0, "reflection", "reflection", 0, Scratchpad("reflection"))
    rnd.reflection = att            # committed with its first turn
    ws = Workspace(ctx.world, att.pad, settings=s)
    ws.cap_natives(next_cap)
    attempts = list(rnd.attempts.values())
    solved = sum(a.solved for a in attempts)
    steps = sum(a.steps for a in attempts)
    outcomes = [outcome_line(a) for a in attempts]      # every problem: steps, cells, last error
    feedback = ""
    for turn in range(s["reflection_turns"]):
        ctx.event(phase="reflection", round=rnd.number, turn=turn)
        prompt = reflection_prompt(s, rnd.number, solved, len(attempts), steps, next_budget,
                                   next_cap, evaluator_of(ctx.world, ctx.base),
                                   helpers_of(ctx.world, ctx.base), outcomes, att.cells.values(),
                                   feedback, native_names(ctx))
        prompt = ablations.reflection_text(prompt, s, next_budget)
        key = f"{ctx.lineage.name}/r{rnd.number}/reflect/t{turn}"
        reply = _ask(ctx, att, key, prompt, {"task": None, "turn": turn})
        if isinstance(reply, str):
            att.why = reply
            break
        ex = extract(reply.text, s["max_forms"])
        feedback = ex.feedback()
        att.turns[len(att.turns) - 1].notes = feedback     # shown next turn; costs no cell
        for form, text in ex.forms:
            if att.pad.room() <= 0:
                break
            mark = change_mark(ctx.world)
            out = ws.run_cell(form, text, att.pad.steps() + next_budget)    # each form: a round budget
            if out.change in CHANGES:
                att.changes += 1
                if earned(ctx.world, mark):     # repeats and cosmetic edits earn nothing
                    att.bonus += s["reflection_bonus"]
        att.steps = att.pad.steps()
        ctx.lineage.natives = ws.natives()
        ctx.commit(f"evolve: {ctx.lineage.name} reflection turn {turn}")
        if not ex.forms or all(head_is_note(f) for f, _ in ex.forms):
            break               # the player wants no (further) change
    att.status, att.finished = "done", time.time()
    att.why = att.why or f"{att.changes} evaluator change(s)"
    ctx.lineage.evaluator = evaluator_of(ctx.world, ctx.base)
    ctx.commit(f"evolve: {ctx.lineage.name} reflection on round {rnd.number} done")
    return att


def native_names(ctx: Context) -> frozenset[str]:
    """The names of the lineage's natives (marked in the prompt's helper list)."""
    return frozenset(world_slot(ctx.world.image.root).natives.keys())


def head_is_note(form: Any) -> bool:
    """Whether `form` is a `(note ...)`."""
    from .workspace import head
    return head(form) == "note"
