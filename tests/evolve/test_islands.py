"""Islands (FunSearch): lineage i lives on island i % K, each island's winner seeds
its own island, every G generations the weaker half of the islands takes the
stronger half's winners; one island is winner-takes-all exactly as before."""
from __future__ import annotations

import random

import pytest

import world
from agent_support import world_cli
from world.evolve import run as R
from world.evolve.agent_errors import EvolveError
from world.evolve.islands import island_seeds, island_winners
from world.evolve.lineage import Generation, Lineage, Run
from world.evolve.package import evaluator_only, stored
from world.evolve.report import summary, table
from world.evolve.rounds import settings


def _gen(totals, failed=()):
    """A finished generation 1 whose lineage i scored totals[i] (real, unstored records)."""
    gen = Generation(1, "", "seed-eval.lisp")
    for i, t in enumerate(totals):
        lineage = gen.lineages[i] = Lineage("r", 1, i, "")
        lineage.fitness = {"total": t}
        lineage.package = evaluator_only(f"(define (my-eval expr env) {i})")
        lineage.failure = "broken" if i in failed else ""
    return gen


def _run(k, g, lineages):
    return Run("r", settings(islands=k, migrate_every=g, lineages=lineages), "test")


def test_each_island_is_seeded_by_its_own_winner_between_migrations():
    gen = _gen([0.1, 0.9, 0.3, 0.2, 0.5, 0.4, 0.3, 0.8])       # 4 islands of 2
    seeds = island_seeds(_run(4, 2, 8), gen, 2)                # 2: (2 - 1) % 2 != 0
    assert [s["seed_from"] for s in seeds] == ["g1-L4", "g1-L1", "g1-L2", "g1-L7"]
    assert all(s["migrated_from"] is None for s in seeds)
    assert seeds[1]["package"] == stored(gen.lineages[1])


def test_migration_gives_the_weaker_half_the_stronger_halfs_winners():
    gen = _gen([0.1, 0.9, 0.3, 0.2, 0.5, 0.4, 0.3, 0.8])
    # island winners: 0: L4 0.5, 1: L1 0.9, 2: L2 0.3, 3: L7 0.8 -> ranked 1, 3, 0, 2
    seeds = island_seeds(_run(4, 2, 8), gen, 3)
    assert [(s["seed_from"], s["migrated_from"]) for s in seeds] == [
        ("g1-L7", 3), ("g1-L1", None), ("g1-L1", 1), ("g1-L7", None)]
    odd = island_seeds(_run(3, 1, 6), _gen([0.2, 0.5, 0.9, 0.1, 0.3, 0.4]), 2)
    # island winners: 0: L0 0.2, 1: L1 0.5, 2: L2 0.9
    assert [(s["seed_from"], s["migrated_from"]) for s in odd] == [
        ("g1-L2", 2), ("g1-L1", None), ("g1-L2", None)]           # only the weakest resets


def test_ties_and_failures_are_decided_deterministically():
    gen = _gen([0.5, 0.5, 0.5, 0.5], failed=(1,))
    seeds = island_seeds(_run(2, 1, 4), gen, 2)
    # island 1: L1 failed, L3 did not: L3 wins it; islands tie at 0.5: island 0 ranks first.
    assert [(s["seed_from"], s["migrated_from"]) for s in seeds] == [("g1-L0", None),
                                                                     ("g1-L0", 0)]


def test_one_island_is_winner_takes_all():
    rng = random.Random(7)
    for n in range(1, 6):
        for _ in range(20):
            totals = [rng.choice([0.0, 0.25, 0.5, 0.75]) for _ in range(n)]
            failed = {i for i in range(n) if rng.random() < 0.2}
            gen = _gen(totals, failed)
            best = max(gen.lineages.values(), key=lambda l: (not l.failure, l.fitness["total"],
                                                             -l.index))
            for g in (0, 1, 2):
                [seed] = island_seeds(_run(1, g, n), gen, 2)
                assert seed["seed_from"] == best.name and seed["migrated_from"] is None
            assert island_winners(gen, 1) == {0: best}


@pytest.mark.parametrize("given, words", [
    (dict(islands=3, lineages=2), "islands (3) cannot outnumber lineages (2)"),
    (dict(islands=2, mode="single"), "single mode evolves one lineage alone, on one island"),
    (dict(islands=0), "islands must be a positive"),
    (dict(migrate_every=-1), "migrate_every must be"),
])
def test_bad_island_settings_are_one_clear_error(given, words):
    with pytest.raises(EvolveError) as info:
        settings(**given)
    assert words in str(info.value)


def test_the_cli_refuses_more_islands_than_lineages_in_one_line(tmp_path):
    out = world_cli("evolve", "--memory", "--agent", "reference", "--islands", "3",
                    "--lineages", "2", cwd=str(tmp_path))
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1 and "cannot outnumber" in lines[0], out.stderr


def test_a_run_with_islands_records_who_seeded_whom(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="reference", run_id="isl", lineages=2, islands=2, migrate_every=2,
                      generations=3, rounds=1, per_round=1, problems=(1, 2, 3, 4))
        g1, g2, g3 = (run.generations[n] for n in (1, 2, 3))
        assert [l.island for l in g2.lineages.values()] == [0, 1]
        assert [dict(d) for d in g1.islands] == [
            {"island": i, "seed_from": "seed-eval.lisp", "migrated_from": None} for i in (0, 1)]
        # Every lineage solves all: islands tie; each island keeps its own winner ...
        assert [(d["seed_from"], d["migrated_from"]) for d in g2.islands] == [
            ("g1-L0", None), ("g1-L1", None)]
        assert g2.lineages[1].seed_package == stored(g1.lineages[1])
        # ... until generation 3, where island 1 (weaker on the tie) takes island 0's winner.
        assert [(d["seed_from"], d["migrated_from"]) for d in g3.islands] == [
            ("g2-L0", None), ("g2-L0", 0)]
        assert all(l.seed_package == stored(g2.lineages[0]) for l in g3.lineages.values())
        rows = table(run)
        assert rows[0][-2:] == ["island", "seeded by"]
        assert rows[-1][-2:] == ["1", "g2-L0 (from island 0)"]
        assert summary(run)["generations"][2]["lineages"][1]["island"] == 1
        assert len(run.generations) == 3 and all(g.winner == 0 for g in (g1, g2, g3))


def test_one_island_keeps_the_table_of_winner_takes_all(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="reference", run_id="one", lineages=2, generations=2, rounds=1,
                      per_round=1, problems=(1, 2, 3))
        rows = table(run)
        assert "island" not in rows[0]
        g1, g2 = run.generations[1], run.generations[2]
        winner = g1.lineages[g1.winner]
        assert g2.seed == winner.evaluator and g2.seed_from == winner.name
        assert [dict(d) for d in g2.islands] == [{"island": 0, "seed_from": winner.name,
                                                   "migrated_from": None}]
        assert all(l.seed_package == winner.package for l in g2.lineages.values())


class Stop(BaseException):
    """Ends a run at a chosen point, as a kill would."""


def test_a_resumed_island_run_gives_the_uninterrupted_table(tmp_path):
    cfg = dict(agent="reference", lineages=2, islands=2, migrate_every=2, generations=3, rounds=1,
               per_round=1, problems=(1, 2, 3, 4))
    with world.open(tmp_path / "full.fs") as w:
        full = table(R.start(w, run_id="r", **cfg))
    seen = [0]

    def progress(e):
        if e.get("phase") == "problem":
            seen[0] += 1
            if seen[0] >= 4:            # in generation 2, before its islands' winners are known
                raise Stop()
    w = world.open(tmp_path / "cut.fs")
    try:
        with pytest.raises(Stop):
            R.start(w, progress, run_id="r", **cfg)
        w.image.abort()
    finally:
        w.close()
    with world.open(tmp_path / "cut.fs") as w:
        assert table(R.resume(w)) == full
