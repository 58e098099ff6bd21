"""Where a lineage solves a problem: each form the agent sends becomes one
cell of the attempt's scratchpad, evaluated in the lineage's own world by
the metacognitive forms of world/evolve/meta.py: `goal`, `note`, `try`,
`check`, `done`, `sub`, `show-env`, `with-limit` on the ground, everything
else through the lineage's my-eval (a ground macro such as `defnative!`
on the ground). `(done e)` solves the problem only when the pool's
`Problem.check` passes: the expected value and every hidden case, evaluated
through my-eval where the lineage's definitions live. Step costs are the
evaluator's exact counts, so the same cell costs the same on every run.

Each cell is one transaction of the lineage's world: its definitions (and
evaluator changes) are committed as it finishes.

Given the run's settings, a workspace applies its ablations
(world/evolve/ablations.py): without self-modification the evaluator's
changing forms are refused, without metacognition so are the metacognitive
forms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..lisp.errors import Interrupted
from ..lisp.types import Pair, Symbol
from . import ablations
from .agent_errors import cell_error
from .meta import Meta
from .scratchpad import Scratchpad, clip
from .slot import world_slot

CHANGES = {"extend-eval!", "edit-eval!"}
NATIVE = "defnative!"


@dataclass
class CellOutcome:
    """What evaluating one form did: the last cell it made and the steps of all of them."""

    kind: str
    text: str
    result: str
    steps: int
    solved: bool = False
    change: str = ""            # "extend-eval!", "edit-eval!" or "defnative!" when one succeeded


def head(form: Any) -> str:
    """The name at the head of a form, or ''."""
    return form.car.name if type(form) is Pair and type(form.car) is Symbol else ""


class Workspace:
    """One lineage's world and one attempt's scratchpad."""

    def __init__(self, world: Any, pad: Scratchpad, task: Any = None,
                 settings: dict[str, Any] | None = None) -> None:
        self.world, self.pad, self.task = world, pad, task
        self.metacognition = ablations.on(settings, "metacognition")
        ablations.apply(world, settings)

    def run_cell(self, form: Any, text: str, budget: int) -> CellOutcome:
        """Evaluate one form as a cell (or several, for `sub`) within the attempt's `budget`."""
        pad, before = self.pad, len(self.pad)
        note = f"evolve cell {pad.problem}: {' '.join(text.split())[:60]}"
        try:
            self._change(lambda: Meta(self.world.env, pad, budget, self.task,
                                              self.metacognition).cell(form, text), note)
        except Interrupted:             # the owner's Ctrl-C stops the run
            raise
        except Exception as e:          # the pad is full, the value cannot be stored, or a bug:
            err = cell_error(e)         # the cell's result either way, never the run's end
            if len(pad) == before:
                if pad.room() > 0:
                    pad.add("ERROR", text, clip(f"{err.kind}: {err.message}"), 0)
            else:                       # cells were made, then their commit was refused
                last = pad.all()[-1]
                last.kind, last.result = "ERROR", clip(f"{err.kind}: {err.message}: not kept")
        made = pad.all()[before:]
        if not made:
            return CellOutcome("ERROR", text, "no cell was made", 0)
        last = made[-1]
        change = head(form) if head(form) in CHANGES | {NATIVE} and last.kind == "CODE" else ""
        return CellOutcome(last.kind, text, last.result, sum(c.steps for c in made),
                           solved=pad.status == "solved", change=change)

    def cap_natives(self, cap: int | None) -> None:
        """Let the lineage's evaluator have at most `cap` natives (None: no cap)."""
        slot = world_slot(self.world.image.root)
        if slot.max_natives != cap:
            self._change(lambda: setattr(slot, "max_natives", cap), f"evolve: natives capped at {cap}")

    def _change(self, work: Any, note: str) -> Any:
        """One transaction of the lineage's world, tagged with this attempt's scratchpad
        (so that a resume can undo it if the attempt never finishes: lineage.settle)."""
        image = self.world.image
        if not hasattr(image, "pad_token"):         # not a lineage's world
            return self.world._change(work, note)
        outer, image.pad_token = image.pad_token, self.pad.token
        try:
            return self.world._change(work, note)
        finally:
            image.pad_token = outer

    def natives(self) -> int:
        """How many natives the lineage's evaluator has."""
        return len(world_slot(self.world.image.root).natives)
