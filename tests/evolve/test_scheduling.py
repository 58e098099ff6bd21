"""Scheduling as in the seed: round 1 standard only, no problem repeats within
a lineage while unseen ones remain, single mode (one lineage, draws weighted
by difficulty) beside tournament mode, and --temperature reaching the model."""
from __future__ import annotations

import pytest

import world
from agent_support import solving, world_cli
from world.evolve import run as R
from world.evolve.agent_errors import EvolveError
from world.evolve.lineage import evolve_root
from world.evolve.pool import CATEGORIES, load_pool
from world.evolve.rounds import restrict, select, settings

POOL = load_pool()


def schedule(pool, s, rounds, generation=1):
    """Every round's problem ids, as a generation draws them."""
    used, out = set(), []
    for r in range(1, rounds + 1):
        ids = select(pool, s, generation, r, used)
        out.append(ids)
        used |= set(ids)
    return out


@pytest.mark.parametrize("mode", ["tournament", "single"])
def test_round_one_is_standard_problems_only(mode):
    for seed in range(6):
        for per_round in (3, 9, 15, 40):
            s = settings(mode=mode, seed=seed, per_round=per_round)
            first = select(POOL, s, 1, 1)
            assert {POOL[i].category for i in first} == {"standard"}
            assert len(first) == min(per_round, 15)
    # from round 2 a tournament round meets every category that has unseen problems
    s = settings(seed=4)
    assert {POOL[i].category for i in select(POOL, s, 1, 2, set(range(1, 11)))} == set(CATEGORIES)
    assert "standard" not in {POOL[i].category for i in select(POOL, s, 1, 2, set(range(1, 16)))}


@pytest.mark.parametrize("mode", ["tournament", "single"])
def test_no_problem_repeats_while_unseen_ones_remain(mode):
    # 8 rounds of 15 exceed the 103 problems: the old draw repeated from round 4 on
    for seed in range(1, 6):
        seen: set[int] = set()
        for r, ids in enumerate(schedule(POOL, settings(mode=mode, seed=seed), 8), 1):
            assert len(ids) == 15 and len(set(ids)) == 15
            unseen = len(POOL) - len(seen)
            assert len(set(ids) & seen) == max(0, 15 - unseen), (seed, r)
            seen |= set(ids)
        assert len(seen) == len(POOL)


def test_unseen_problems_outside_the_rounds_categories_come_before_repeats():
    # round 2 draws standard and hard, never evolution: unless the rest is all seen
    pool = restrict(POOL, (1, 2, 201, 202))
    for mode in ("tournament", "single"):
        got = schedule(pool, settings(mode=mode, per_round=2, problems=(1, 2, 201, 202)), 3)
        assert got[0] == (1, 2) and got[1] == (201, 202), mode
        assert len(got[2]) == 2                      # all seen: repeats rather than an empty round


def test_a_pool_without_standard_problems_still_has_a_round_one():
    pool = restrict(POOL, (101, 102, 103))
    assert len(select(pool, settings(per_round=2), 1, 1)) == 2


def test_single_mode_draws_are_weighted_by_difficulty():
    def mean_difficulty(round_no, weighted):
        ds = [p.difficulty for seed in range(60)
              for p in POOL.select(round_no, count=5, seed=seed, weighted=weighted)]
        return sum(ds) / len(ds)
    assert mean_difficulty(1, True) < mean_difficulty(1, False)        # round 1 aims at 1
    assert mean_difficulty(4, True) > mean_difficulty(4, False)        # round 4 aims at 4
    assert mean_difficulty(2, True) < mean_difficulty(3, True) < mean_difficulty(5, True)
    # deterministic in the seed
    assert POOL.select(3, seed="a", weighted=True) == POOL.select(3, seed="a", weighted=True)


def test_settings_of_the_modes_and_the_temperature():
    s = settings(mode="single")
    assert s["lineages"] == 1 and s["tournament"] is False and s["temperature"] is None
    assert settings(mode="single", lineages=1)["lineages"] == 1
    assert settings()["mode"] == "tournament" and settings()["lineages"] == 4
    assert settings(temperature=0)["temperature"] == 0
    with pytest.raises(EvolveError, match="single mode evolves one lineage"):
        settings(mode="single", lineages=3)
    with pytest.raises(EvolveError, match="mode must be tournament or single"):
        settings(mode="islands")
    for bad in (1.5, -0.1, float("nan"), "hot", True):
        with pytest.raises(EvolveError, match="temperature must be a number from 0 to 1"):
            settings(temperature=bad)


SINGLE = dict(mode="single", rounds=3, per_round=2, problems=(1, 2, 3, 101, 102, 201, 301))


def test_single_mode_runs_end_to_end_through_the_sdk_with_the_temperature(tmp_path, server):
    server.default = solving
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        run = R.start(w, agent="model", model="claude-sonnet-4-6", run_id="solo",
                      temperature=0.3, **SINGLE)
        assert run.status == "done"
    assert server.requests and all(b.get("temperature") == 0.3 for b in server.requests)
    # sent under the API version that still takes sampling options
    assert {b["_headers"]["anthropic-version"] for b in server.requests} == {"2023-06-01"}
    with world.open(path) as w:                    # recorded with the run
        run = evolve_root(w.image).runs["solo"]
        assert run.settings["mode"] == "single" and run.settings["temperature"] == 0.3
        gen = run.generations[1]
        assert list(gen.lineages) == [0] and gen.winner == 0
        rounds = [gen.problems[r] for r in (1, 2, 3)]
        assert {POOL[i].category for i in rounds[0]} == {"standard"}
        assert len({i for ids in rounds for i in ids}) == 6            # no repeats
        lineage = gen.lineages[0]
        assert lineage.fitness["solved"] == 6 and lineage.status == "done"


def test_no_temperature_is_sent_unless_given(tmp_path, server):
    server.default = solving
    with world.open(tmp_path / "w.fs") as w:
        R.start(w, agent="model", run_id="t", lineages=1, rounds=1, per_round=1, problems=(1,))
    assert server.requests and all("temperature" not in b for b in server.requests)
    assert "2023-06-01" not in {b["_headers"]["anthropic-version"] for b in server.requests}


def test_a_replay_keeps_the_recorded_mode(tmp_path):
    rec = tmp_path / "solo.jsonl"
    with world.open(tmp_path / "a.fs") as w:
        first = R.start(w, agent="reference", run_id="a", record=str(rec), **SINGLE)
        first_problems = dict(first.generations[1].problems)
    with world.open(tmp_path / "b.fs") as w:
        again = R.start(w, agent=f"replay:{rec}", run_id="b")
        assert again.settings["mode"] == "single" and again.settings["lineages"] == 1
        assert dict(again.generations[1].problems) == first_problems


def test_the_cli_flags_reach_the_model_and_the_report(tmp_path, server):
    server.default = solving
    path = tmp_path / "w.fs"
    out = world_cli("evolve", "--world", str(path), "--mode", "single", "--temperature", "0.25",
                    "--rounds", "2", "--per-round", "1", "--problems", "1,2,101",
                    "--run-id", "cli", cwd=str(tmp_path),
                    ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
    assert out.returncode == 0, out.stderr
    assert "mode: single, 1 lineage(s)" in out.stdout and "temperature: 0.25" in out.stdout
    assert server.requests and all(b["temperature"] == 0.25 for b in server.requests)
    rep = world_cli("evolve", "report", "cli", "--world", str(path), "--png",
                    str(tmp_path / "f.png"), cwd=str(tmp_path))
    assert rep.returncode == 0, rep.stderr
    assert "mode: single" in rep.stdout and "temperature: 0.25" in rep.stdout


@pytest.mark.parametrize("args,message", [
    (["--mode", "single", "--lineages", "3"], "single mode evolves one lineage alone"),
    (["--temperature", "1.5"], "temperature must be a number from 0 to 1"),
    (["--temperature", "nan"], "temperature must be a number from 0 to 1"),
])
def test_bad_scheduling_flags_are_one_error_line(tmp_path, args, message):
    out = world_cli("evolve", "--memory", "--agent", "reference", *args, cwd=str(tmp_path))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], out.stderr
