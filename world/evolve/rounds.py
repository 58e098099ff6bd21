"""Rounds under scarcity: the settings of a run and the problems of a round.

Budgets tighten round by round (1500, 1200, 1000, then 600 steps per
problem) and so does the cap on natives (none, 10, 5, then 3). Round 1
draws standard problems only; round 2 standard, hard and the newer
categories; round 3 hard, evolution and the newer ones; later rounds mostly
evolution. In tournament mode a round holds 15 problems and, from round 2
on, at least one of every category. Every lineage of a generation meets the
same problems. All of these numbers are settings, stored with the run.
"""
from __future__ import annotations

import random
from typing import Any, Sequence

from .agent_errors import EvolveError

CATEGORIES = ("standard", "hard", "evolution", "string", "higher-order", "number-theory",
              "recursive", "logic", "meta")
NEWER = CATEGORIES[3:]

DEFAULTS: dict[str, Any] = {
    "lineages": 4, "rounds": 3, "generations": 1,
    "budgets": (1500, 1200, 1000, 600),          # steps per problem, by round (last repeats)
    "native_caps": (None, 10, 5, 3),             # natives a lineage may have, by round
    "per_round": 15,                             # problems per round
    "tournament": True,                          # at least one of every category from round 2
    "change_bonus": 150,                         # steps per successful extend-eval!/edit-eval!
    "reflection_bonus": 75,                      # steps per problem next round, per reflection change
    "max_cells": 25, "max_forms": 5, "max_turns": 25, "reflection_turns": 2,
    "seed": 1, "model": "", "problems": None,    # None: the whole pool
    "weights": {"solve": 0.50, "novelty": 0.15, "efficiency": 0.15,
                "diversity": 0.10, "richness": 0.10},
}


def settings(**given: Any) -> dict[str, Any]:
    """A run's settings: the defaults with `given` (None values ignored) over them."""
    s = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    for k, v in given.items():
        if k not in DEFAULTS:
            raise EvolveError(f"unknown run setting {k!r}")
        if v is not None:
            s[k] = v
    for k in ("lineages", "rounds", "generations", "per_round", "max_cells", "max_forms"):
        if not isinstance(s[k], int) or s[k] < 1:
            raise EvolveError(f"{k} must be a positive whole number, not {s[k]!r}")
    for k in ("budgets", "native_caps"):
        s[k] = tuple(s[k])
    if s["problems"] is not None:
        s["problems"] = tuple(s["problems"])
    return s


def budget(s: dict[str, Any], round_no: int) -> int:
    """Steps per problem in round `round_no` (1-based)."""
    b = s["budgets"]
    return int(b[min(round_no, len(b)) - 1])


def native_cap(s: dict[str, Any], round_no: int) -> int | None:
    """How many natives a lineage may have in round `round_no` (None: no cap)."""
    c = s["native_caps"]
    return c[min(round_no, len(c)) - 1]


def weights(round_no: int) -> dict[str, int]:
    """How often each category is drawn in round `round_no` (0: never)."""
    if round_no == 1:
        return {"standard": 1}
    if round_no == 2:
        return {"standard": 2, "hard": 2, **{c: 1 for c in NEWER}}
    if round_no == 3:
        return {"hard": 2, "evolution": 2, **{c: 1 for c in NEWER}}
    return {"evolution": 6, "hard": 1, **{c: 1 for c in NEWER}}


def select(tasks: Sequence[Any], s: dict[str, Any], generation: int, round_no: int,
           used: set[int] = frozenset()) -> tuple[int, ...]:
    """The problem ids of a round: deterministic in the run's seed, fresh ones first."""
    rng = random.Random(f"{s['seed']}/{generation}/{round_no}")
    w = weights(round_no)
    pool = [t for t in tasks if w.get(t.category, 0) > 0]
    if not pool:                     # a small pool without this round's categories
        pool = list(tasks)
    if not pool:
        raise EvolveError("the problem pool is empty")
    n = min(s["per_round"], len(pool)) if round_no == 1 else s["per_round"]
    chosen: list[Any] = []
    if s["tournament"] and round_no > 1:
        for cat in CATEGORIES:      # at least one of every category there is
            have = [t for t in tasks if t.category == cat]
            if have and len(chosen) < n:
                chosen.append(_pick(rng, have, used, chosen))
    weighted = [t for t in pool for _ in range(w.get(t.category, 1))]
    while len(chosen) < n:
        fresh = [t for t in weighted if t.id not in used and t not in chosen]
        if not fresh:
            fresh = [t for t in weighted if t not in chosen] or weighted
        chosen.append(rng.choice(fresh))
    order = sorted(chosen, key=lambda t: (CATEGORIES.index(t.category)
                                          if t.category in CATEGORIES else 99, t.id))
    return tuple(t.id for t in order)


def _pick(rng: random.Random, have: list[Any], used: set[int], chosen: list[Any]) -> Any:
    fresh = [t for t in have if t.id not in used and t not in chosen]
    return rng.choice(fresh or [t for t in have if t not in chosen] or have)
