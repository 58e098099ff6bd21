"""The run's cost limit (`--max-cost USD`): checked before every model call.

The estimate is the run's `Usage` (priced by world/evolve/model.py), which
every worker process bumps through the shared database, so a parallel run
stops too: each worker before its next call, the coordinator when they are
gone. A stop leaves the run resumable, exactly as a crash between two calls
would: the attempt in flight starts over on `world evolve --resume RUN
--max-cost MORE` (see `run.resume` and `lineage.settle`).
"""
from __future__ import annotations

from typing import Any

from .agent_errors import EvolveError


class CostLimit(EvolveError):
    """The run's estimated cost reached its `max_cost`: it stopped between model calls."""

    kind = "cost limit"

    def __init__(self, run_id: str, spent: float, limit: float) -> None:
        self.run_id, self.spent, self.limit = run_id, spent, limit
        super().__init__(f"run {run_id} reached its ${limit:.4f} limit with an estimated "
                         f"${spent:.4f} spent and stopped between model calls; go on with "
                         f"`world evolve --resume {run_id} --max-cost MORE`")


def limit_of(run: Any) -> float | None:
    """The run's cost limit in dollars (None: none; runs recorded before limits have none)."""
    limit = run.settings.get("max_cost")
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
        raise EvolveError(f"run {run.id} holds a bad cost limit {limit!r}: resume it with "
                          f"`world evolve --resume {run.id} --max-cost USD`")
    return float(limit)


def over(run: Any) -> bool:
    """Whether the run's estimated cost has reached its limit."""
    limit = limit_of(run)
    return limit is not None and run.usage.cost() >= limit


def check(run: Any) -> None:
    """Raise CostLimit when the run may not ask the model again."""
    if over(run):
        raise CostLimit(run.id, run.usage.cost(), limit_of(run))
