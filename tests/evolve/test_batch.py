"""`world evolve batch`: N seeded runs of one configuration, statistics recomputed from the
stored runs, resumption after an interrupted batch, extension, and refused re-runs."""
from __future__ import annotations

import json
import statistics

import pytest

import world
from repl.cli import main
from world.evolve.agent_errors import EvolveError
from world.evolve.batch import (COMPONENTS, batch_stats, find_batch, open_batch, run_batch,
                                seed_range)
from world.evolve.lineage import evolve_root
from world.lisp.errors import LispError

PROBLEMS = (1, 2, 3, 4, 5, 6, 7, 101, 102, 103, 104, 105, 201, 202, 300, 301)
SMALL = dict(agent="reference", lineages=2, rounds=2, per_round=3, problems=PROBLEMS)
FLAGS = ["--agent", "reference", "--lineages", "2", "--rounds", "2", "--per-round", "3",
         "--problems", ",".join(map(str, PROBLEMS))]


class Stop(BaseException):
    """Ends a batch at a chosen point, as a kill would."""


def _batch(path, bid="b", seeds=3, stop_at=None, events=None, **given):
    """Run (or carry on) batch `bid`; stop at the `stop_at`-th problem (records as a crash leaves them)."""
    seen = [0]

    def progress(e):
        if events is not None and e["phase"].startswith("batch-"):
            events.append((e["phase"], e["run"]))
        if e.get("phase") == "problem":
            seen[0] += 1
            if stop_at is not None and seen[0] >= stop_at:
                raise Stop()
    w = world.open(str(path))
    try:
        batch = open_batch(w, bid, {**SMALL, **given}, seed_range(None, seeds))
        run_batch(w, batch, progress)
        w.image.begin()
        return batch_stats(w, batch)
    except Stop:
        w.image.abort()
        return None
    finally:
        w.close()


def _recomputed(path, bid):
    """Winner and lineage components and category rates, read straight off the stored runs."""
    w = world.open(str(path))
    try:
        runs = evolve_root(w.image).runs
        winners, lineages, cats = [], [], {}
        for rid in find_batch(w, bid).run_ids():
            run = runs[rid]
            gen = list(run.generations.values())[-1]
            winners.append(dict(gen.lineages[gen.winner].fitness))
            per = {}
            for g in run.generations.values():
                for l in g.lineages.values():
                    lineages.append(dict(l.fitness))
                    for a in l.attempts():
                        per.setdefault(a.category, []).append(a.solved)
            for c, xs in per.items():
                cats.setdefault(c, []).append(sum(xs) / len(xs))
        return winners, lineages, cats
    finally:
        w.close()


def _check(stat, xs):
    assert stat["n"] == len(xs)
    assert stat["mean"] == pytest.approx(statistics.fmean(xs))
    assert stat["sd"] == pytest.approx(statistics.stdev(xs))
    assert (stat["min"], stat["max"]) == (min(xs), max(xs))


def test_the_statistics_are_those_of_the_stored_runs(tmp_path):
    path = tmp_path / "w.fs"
    st = _batch(path)
    assert st["status"] == "done" and st["finished"] == 3
    assert [r["run"] for r in st["runs"]] == ["b-s1", "b-s2", "b-s3"]
    winners, lineages, cats = _recomputed(path, "b")
    assert len(winners) == 3 and len(lineages) == 6
    for k in COMPONENTS:
        _check(st["winners"][k], [f[k] for f in winners])
        _check(st["lineages"][k], [f[k] for f in lineages])
    assert set(st["categories"]) == set(cats)
    for c, xs in cats.items():
        _check(st["categories"][c], xs)
    # the seeds draw different problems, so the spread is real
    assert st["winners"]["efficiency"]["sd"] > 0
    w = world.open(str(path))
    try:
        seeds = [evolve_root(w.image).runs[f"b-s{i}"].settings["seed"] for i in (1, 2, 3)]
    finally:
        w.close()
    assert seeds == [1, 2, 3]


def test_an_interrupted_batch_resumes_to_the_uninterrupted_statistics(tmp_path):
    whole = _batch(tmp_path / "a.fs")
    path = tmp_path / "b.fs"
    assert _batch(path, stop_at=17) is None          # killed during the second run
    events = []
    resumed = _batch(path, events=events)
    assert events == [("batch-skip", "b-s1"), ("batch-resume", "b-s2"), ("batch-run", "b-s3")]
    for key in ("winners", "lineages", "categories", "runs"):
        assert resumed[key] == whole[key]
    events.clear()
    assert _batch(path, events=events)["status"] == "done"     # again: nothing left to do
    assert [e[0] for e in events] == ["batch-skip"] * 3


def test_more_seeds_extend_a_batch(tmp_path):
    path = tmp_path / "w.fs"
    _batch(path, seeds=2)
    events = []
    st = _batch(path, seeds=3, events=events)
    assert events == [("batch-skip", "b-s1"), ("batch-skip", "b-s2"), ("batch-run", "b-s3")]
    assert st["finished"] == 3 and st["winners"]["total"]["n"] == 3


def test_the_cli_prints_json_and_text_and_refuses_another_configuration(tmp_path, capsys):
    image = str(tmp_path / "w.fs")
    assert main(["evolve", "batch", "--world", image, "--seeds", "2", "--seed", "5",
                 "--batch-id", "cfg", "--json", *FLAGS]) == 0
    out = capsys.readouterr().out
    st = json.loads(out)
    assert st["seeds"] == [5, 6] and [r["run"] for r in st["runs"]] == ["cfg-s5", "cfg-s6"]
    assert st["given"]["lineages"] == 2 and "seed" not in st["given"]
    # carried on with no configuration flags: the stored one, nothing run again
    assert main(["evolve", "batch", "--world", image, "--batch-id", "cfg"]) == 0
    text = capsys.readouterr().out
    assert "cfg-s6 (seed 6) is done already" in text
    assert "winners   total" in text and "standard" in text
    assert main(["evolve", "report", "--world", image, "cfg"]) == 0      # the report finds it
    assert capsys.readouterr().out.startswith("batch cfg (done): 2/2 runs finished")
    assert main(["evolve", "report", "--world", image, "cfg", "--png", "x.png"]) == 1
    assert "cfg-s5" in capsys.readouterr().err
    assert main(["evolve", "batch", "--world", image, "--batch-id", "cfg", "--lineages", "3"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "lineages 2" in err and "--batch-id" in err
    assert main(["evolve", "batch", "--world", image, "--seeds", "1", "--run-id", "x",
                 *FLAGS]) == 1
    assert "--batch-id" in capsys.readouterr().err
    assert main(["evolve", "batch", "--world", image, "--batch-id", "nope"]) == 1
    assert "give --seeds" in capsys.readouterr().err
    assert main(["evolve", "batch", "--world", image]) == 1
    assert "(batches: cfg)" in capsys.readouterr().err
    assert main(["evolve", "batch", "--world", image, "--read-only", "--batch-id", "cfg"]) == 1
    assert "drop --read-only" in capsys.readouterr().err


def test_bad_batch_requests_are_one_line_errors(tmp_path):
    path = tmp_path / "w.fs"
    w = world.open(str(path))
    try:
        for bid, seeds, why in [("a/b", (1,), "letters, digits"), ("x", None, "give --seeds")]:
            with pytest.raises(EvolveError, match=why):
                open_batch(w, bid, SMALL, seeds)
        with pytest.raises(EvolveError, match="positive"):
            seed_range(1, 0)
        with pytest.raises(EvolveError, match="lineages"):
            open_batch(w, "bad", {**SMALL, "lineages": 0}, (1,))
        with pytest.raises(LispError, match="no problem with id 99999"):
            open_batch(w, "bad", {**SMALL, "problems": (1, 99999)}, (1,))
        assert find_batch(w, "bad") is None              # nothing stored for a refused batch
    finally:
        w.close()


def test_a_cost_limit_stops_the_batch_and_a_higher_one_carries_it_on(tmp_path, server):
    from agent_support import solving
    server.default = solving
    cfg = dict(agent="model", model="claude-sonnet-4-6", lineages=1, rounds=1, per_round=2,
               problems=(1, 2, 3))
    w = world.open(str(tmp_path / "w.fs"))
    try:
        batch = open_batch(w, "m", {**cfg, "max_cost": 1e-6}, (1, 2))
        with pytest.raises(EvolveError, match=r"batch m stopped: run m-s1 .* --batch-id m --max-cost"):
            run_batch(w, batch, operational={"max_cost": 1e-6})
        events = []
        batch = open_batch(w, "m", {**cfg, "max_cost": 5.0}, None)   # a limit is no conflict
        run_batch(w, batch, lambda e: events.append(e["phase"]), operational={"max_cost": 5.0})
        assert [p for p in events if p.startswith("batch-")] == ["batch-resume", "batch-run"]
        w.image.begin()
        st = batch_stats(w, batch)
        runs = evolve_root(w.image).runs
        assert st["status"] == "done" and st["usage"]["calls"] > 0
        assert st["usage"]["calls"] == sum(runs[r].usage.as_dict()["calls"] for r in ("m-s1", "m-s2"))
        assert st["usage"]["cost"] == pytest.approx(sum(runs[r].usage.as_dict()["cost"]
                                                        for r in ("m-s1", "m-s2")))
        assert st["endpoints"] == [server.url] and st["models"]
        assert [runs[r].settings["max_cost"] for r in ("m-s1", "m-s2")] == [5.0, 5.0]
    finally:
        w.close()
