"""`world evolve compare`: runs and batches side by side, only the settings that differ,
every fitness component as stored, and one line naming the known runs for an unknown one."""
from __future__ import annotations

import json

import pytest

import world
from repl.cli import main
from world.evolve.agent_errors import EvolveError
from world.evolve.batch import COMPONENTS, batch_stats, find_batch, open_batch, run_batch
from world.evolve.compare import compare, rows
from world.evolve.lineage import evolve_root
from world.evolve.run import start

PROBLEMS = (1, 2, 3, 4, 5, 6, 7, 101, 102, 103, 104, 105, 201, 202, 300, 301)
SMALL = dict(agent="reference", lineages=2, rounds=2, per_round=3, problems=PROBLEMS)


@pytest.fixture
def image(tmp_path):
    """A world holding runs `a` (seed 1), `b` (3 lineages, seed 2) and batch `k` (seeds 1-2)."""
    path = str(tmp_path / "w.fs")
    w = world.open(path)
    try:
        start(w, run_id="a", **SMALL)
        start(w, run_id="b", **{**SMALL, "lineages": 3, "seed": 2})
        run_batch(w, open_batch(w, "k", {**SMALL, "rounds": 1}, (1, 2)))
    finally:
        w.close()
    return path


def test_runs_side_by_side_show_only_the_settings_that_differ(image):
    w = world.open(image)
    try:
        data = compare(w, ["a", "b"])
        assert data["differences"] == {"lineages": [2, 3], "seed": [1, 2]}
        runs = evolve_root(w.image).runs
        for col, rid in zip(data["columns"], ("a", "b")):
            gen = runs[rid].generations[1]
            win = gen.lineages[gen.winner].fitness
            fits = [l.fitness for l in gen.lineages.values()]
            for k in COMPONENTS:
                assert col["winner"][k]["mean"] == pytest.approx(win[k])
                assert col["lineages"][k]["mean"] == pytest.approx(sum(f[k] for f in fits) / len(fits))
                assert col["lineages"][k]["n"] == len(fits)
            solved = sum(a.solved for l in gen.lineages.values() for a in l.attempts()
                         if a.category == "standard")
            tried = sum(1 for l in gen.lineages.values() for a in l.attempts()
                        if a.category == "standard")
            assert col["categories"]["standard"]["mean"] == pytest.approx(solved / tried)
            assert col["usage"]["calls"] == 0 and col["endpoints"] == []
        labels = [r[0] for r in rows(data)]
        assert "setting lineages" in labels and "setting seed" in labels
        assert "setting rounds" not in labels
        assert {"winner total", "lineages efficiency", "solve rate standard", "cost (est.)",
                "model(s)", "endpoint(s)"} <= set(labels)
    finally:
        w.close()


def test_a_batch_beside_a_run_shows_its_means_and_seeds(image):
    w = world.open(image)
    try:
        data = compare(w, ["a", "k"])
        assert data["differences"] == {"rounds": [2, 1], "seed": [1, "1-2"]}
        batch = data["columns"][1]
        st = batch_stats(w, find_batch(w, "k"))
        assert batch["kind"] == "batch" and batch["runs"] == "2/2"
        for k in COMPONENTS:
            assert batch["winner"][k] == st["winners"][k]
            assert batch["lineages"][k]["n"] == 4
        cell = dict(zip([r[0] for r in rows(data)], rows(data)))["winner efficiency"][2]
        assert "±" in cell
    finally:
        w.close()


def test_an_unknown_name_is_one_line_naming_the_known_runs(image, capsys):
    w = world.open(image)
    try:
        with pytest.raises(EvolveError) as e:
            compare(w, ["a", "nope"])
    finally:
        w.close()
    msg = str(e.value)
    assert "nope" in msg and "a, b, k-s1, k-s2" in msg and "batches are k" in msg
    assert main(["evolve", "compare", "--world", image, "zzz"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error:") and "runs are a, b" in err


def test_the_cli_prints_the_table_and_json(image, capsys):
    assert main(["evolve", "compare", "--world", image, "a", "b", "k"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["a", "b", "k"]
    assert "setting lineages" in text and "solve rate standard" in text
    assert main(["evolve", "compare", "--world", image, "a", "k", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in data["columns"]] == ["a", "k"]


def test_an_empty_world_says_so(tmp_path):
    w = world.open(str(tmp_path / "e.fs"))
    try:
        with pytest.raises(EvolveError, match="holds no evolution run"):
            compare(w, ["x"])
    finally:
        w.close()
