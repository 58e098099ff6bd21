"""Rounds under scarcity: the settings of a run and the problems of a round.

Budgets tighten round by round (1500, 1200, 1000, then 600 steps per
problem) and so does the cap on natives (none, 10, 5, then 3). Round 1
draws standard problems only; round 2 standard, hard and the newer
categories; round 3 hard, evolution and the newer ones; later rounds mostly
evolution (the pool's `select` draws them). No problem comes back to a
lineage while it has unseen ones left. In tournament mode (the default) a
round holds 15 problems, from round 2 at least one of every category, and
every lineage of a generation meets the same problems; in single mode one
lineage evolves alone and problems are drawn weighted by difficulty (round r
favours difficulty r). All of these numbers are settings, stored with the
run, as is the model's sampling temperature.
"""
from __future__ import annotations

from typing import Any, Sequence

from .agent_errors import EvolveError

MODES = ("tournament", "single")
CATEGORIES = ("standard", "hard", "evolution", "string", "higher-order", "number-theory",
              "recursive", "logic", "meta")

DEFAULTS: dict[str, Any] = {
    "mode": "tournament",                        # or "single": one lineage, draws by difficulty
    "lineages": 4, "rounds": 3, "generations": 1,
    "budgets": (1500, 1200, 1000, 600),          # steps per problem, by round (last repeats)
    "native_caps": (None, 10, 5, 3),             # natives a lineage may have, by round
    "per_round": 15,                             # problems per round
    "tournament": True,                          # follows mode: every category each round from 2
    "change_bonus": 150,                         # steps per successful extend-eval!/edit-eval!
    "reflection_bonus": 75,                      # steps per problem next round, per reflection change
    "max_cells": 25, "max_forms": 5, "max_turns": 25, "reflection_turns": 2,
    "seed": 1, "problems": None,                 # problem ids to draw from (None: the whole pool)
    "agent": "model", "model": "", "record": None, "parallel": 1,
    "temperature": None,                         # the model's sampling temperature (None: its default)
    "timeout": 120.0, "retries": 6, "backoff": 1.0,   # per model call: seconds, retries, first wait
    "personalities": None,                       # ((name, text), ...): lineage i gets i % len
    "islands": 1, "migrate_every": 0,            # K populations; best evaluators migrate every G gens
    "self_modify": True, "reflection": True, "metacognition": True,    # ablations switch these off
    "max_cost": None,                            # USD: stop (resumably) when the estimate reaches it
    "cache": True,                               # prompt caching of the stable prefix
    "adversary": False,                          # a model proposes problems for later rounds
    "from_hall": None,                           # hall-of-fame id ("RUN/0001") to start from
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
    if s["max_cells"] > 25:
        raise EvolveError(f"max_cells is at most 25 (a scratchpad's size), not {s['max_cells']}")
    if s["mode"] not in MODES:
        raise EvolveError(f"mode must be tournament or single, not {s['mode']!r}")
    if s["mode"] == "single":
        if given.get("lineages") not in (None, 1):
            raise EvolveError(f"single mode evolves one lineage alone, not {given['lineages']}: "
                              f"drop --lineages or use --mode tournament")
        s["lineages"] = 1
    s["tournament"] = s["mode"] == "tournament"
    t = s["temperature"]
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))
                          or not 0.0 <= t <= 1.0):
        raise EvolveError(f"temperature must be a number from 0 to 1, not {t!r}")
    if not isinstance(s["islands"], int) or isinstance(s["islands"], bool) or s["islands"] < 1:
        raise EvolveError(f"islands must be a positive whole number, not {s['islands']!r}")
    if s["islands"] > 1 and s["mode"] == "single":
        raise EvolveError(f"single mode evolves one lineage alone, on one island, not "
                          f"{s['islands']}: drop --islands or use --mode tournament")
    if s["islands"] > s["lineages"]:
        raise EvolveError(f"islands ({s['islands']}) cannot outnumber lineages ({s['lineages']}): "
                          f"lineage i lives on island i % islands, so each island needs one")
    if (not isinstance(s["migrate_every"], int) or isinstance(s["migrate_every"], bool)
            or s["migrate_every"] < 0):
        raise EvolveError(f"migrate_every must be a whole number of generations (0: never), "
                          f"not {s['migrate_every']!r}")
    for k in ("self_modify", "reflection", "metacognition", "cache", "adversary"):
        if not isinstance(s[k], bool):
            raise EvolveError(f"{k} must be true or false, not {s[k]!r}")
    m = s["max_cost"]
    if m is not None and (isinstance(m, bool) or not isinstance(m, (int, float))
                          or not m > 0):                # `not >`: refuses nan too
        raise EvolveError(f"max_cost must be a positive number of US dollars, not {m!r}")
    if s["personalities"] is not None:
        from .personalities import normalize        # names and texts checked as a file's are
        s["personalities"] = normalize(s["personalities"])
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


def select(pool: Any, s: dict[str, Any], generation: int, round_no: int,
           used: set[int] = frozenset(), extra: Sequence[Any] = ()) -> tuple[int, ...]:
    """The problem ids of a round: the pool's draw for it, deterministic in the run's seed;
    from round 2, some of the `extra` (adversarial) problems not yet drawn mixed in."""
    chosen = pool.select(round_no, count=s["per_round"], seed=f"{s['seed']}/{generation}",
                         tournament=s["tournament"], exclude=used,
                         weighted=s.get("mode") == "single")   # runs before modes had none
    if extra and round_no >= 2:
        from .adversary import mix
        chosen = mix(chosen, extra, s["per_round"], f"{s['seed']}/{generation}/{round_no}", used)
    if not chosen:
        raise EvolveError(f"the problem pool has nothing for round {round_no}")
    return tuple(p.id for p in chosen)


def restrict(pool: Any, ids: Sequence[int] | None) -> Any:
    """The pool, or only the problems `ids` names (the `problems` setting)."""
    if ids is None:
        return pool
    from .pool import Pool
    return Pool([pool.get(i) for i in ids])
