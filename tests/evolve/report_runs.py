"""Runs for the report tests, made with the reference agent (no model): a plain
one, and one whose first lineage fails because its stored evaluator holds an
unreadable value wrapped around `<script>` text."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.evolve import run as R
from world.evolve.lineage import evolve_root
from world.evolve.slot import SETTINGS_KEY

PROBLEMS = (1, 2, 3, 4, 5, 101, 102)
SCRIPT = '</pre><script>alert("x")</script>'


def reference_run(path: Path, run_id: str, **cfg) -> None:
    """A finished reference run `run_id` in the world at `path`."""
    settings = dict(lineages=2, rounds=1, generations=2, per_round=2, problems=PROBLEMS)
    settings.update(cfg)
    with world.open(path) as w:
        R.start(w, agent="reference", run_id=run_id, **settings)


def failed_run(path: Path, run_id: str = "bad") -> None:
    """A finished run whose g1-L0 failed: its evaluator, and a problem name, hold `SCRIPT`."""
    def stop(event):
        if event.get("phase") == "problem-done":
            raise KeyboardInterrupt         # as if killed after g1-L0's first problem
    with world.open(path) as w:
        with pytest.raises(KeyboardInterrupt):
            R.start(w, agent="reference", run_id=run_id, lineages=2, rounds=2, per_round=1,
                    problems=(1, 2), progress=stop)
    with world.open(path) as w:
        lineage = evolve_root(w.image).runs[run_id].generations[1].lineages[0]
        slot = lineage.root.settings[SETTINGS_KEY]
        slot.version().source = f'(define (my-eval expr env) "{SCRIPT}" #<procedure twice>)'
        lineage.evaluator = slot.version().source
        next(lineage.attempts()).name = SCRIPT
        w.image.tm.commit()
    with world.open(path) as w:
        assert R.resume(w).status == "done"
