"""Islands (FunSearch): K populations that evolve apart, with migration.

The lineages of a generation are split into K islands, lineage i on island
i % K. Each island's winner (its fittest lineage: ties go to the lower
index, a failed one only if all of the island failed) seeds that island's
lineages in the next generation. Every G generations (`migrate_every`, 0:
never) the weaker half of the islands is reset, as FunSearch does: islands
are ranked by their winner's fitness (ties: the lower island first), and the
j-th weakest island takes the j-th strongest one's winner as its seed. All
of it is deterministic, so a resumed run decides the same. With one island
(the default) this is winner-takes-all: the generation's winner seeds every
lineage. Which island got which seed, from whom, is recorded with each
generation (`Generation.islands`); the hall of fame keeps one entry per
generation, its overall winner.
"""
from __future__ import annotations

from typing import Any

from .lineage import Generation, Lineage, Run
from .package import stored


def island_count(s: dict[str, Any]) -> int:
    """How many islands a run's settings ask for (1 for runs made before islands)."""
    return int(s.get("islands") or 1)


def rank_key(lineage: Lineage) -> tuple[Any, ...]:
    """Sort key of a generation's competitors: not failed, fitness, lower index first."""
    return (not lineage.failure, (lineage.fitness or {}).get("total", 0.0), -lineage.index)


def island_winners(gen: Generation, k: int) -> dict[int, Lineage]:
    """The fittest lineage of each island of `gen` (island -> lineage)."""
    out: dict[int, Lineage] = {}
    for lineage in gen.lineages.values():
        i = lineage.index % k
        if i not in out or rank_key(lineage) > rank_key(out[i]):
            out[i] = lineage
    return out


def migrates(s: dict[str, Any], number: int) -> bool:
    """Does generation `number` start with a migration (after every G finished ones)?"""
    g = int(s.get("migrate_every") or 0)
    return g > 0 and island_count(s) > 1 and number > 1 and (number - 1) % g == 0


def island_seeds(run: Run, prev: Generation, number: int) -> list[dict[str, Any]]:
    """The seed of each island of generation `number`, from `prev`'s island winners:
    [{island, package, seed_from, migrated_from}], migrated_from the island whose
    winner replaced this island's own (None when it kept its own)."""
    k = island_count(run.settings)
    winners = island_winners(prev, k)
    source = {i: i for i in range(k)}
    if migrates(run.settings, number):
        ranked = sorted(range(k), key=lambda i: (rank_key(winners[i])[:2], -i), reverse=True)
        for j in range(k // 2):
            source[ranked[k - 1 - j]] = ranked[j]
    return [{"island": i, "package": stored(winners[source[i]]),
             "seed_from": winners[source[i]].name,
             "migrated_from": source[i] if source[i] != i else None} for i in range(k)]


def record_islands(gen: Generation, islands: list[dict[str, Any]]) -> None:
    """Keep with `gen` which island got which seed and from whom (plain data, no packages)."""
    gen.islands = tuple({"island": d["island"], "seed_from": d["seed_from"],
                         "migrated_from": d["migrated_from"]} for d in islands)
