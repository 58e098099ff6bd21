"""Held-out evaluation of a hall-of-fame entry: only problems its run (and the runs it
started from) never showed, the result per category beside the entry's own, recorded
with the entry; carried on after an interruption; one line when nothing is held out."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import world
from repl.cli import main
from test_from_hall import extending
from world.evolve.hall import (_new_held_out_run, evaluate_held_out, find_entry, held_out_runs,
                               seen_problems, unseen_problems)
from world.evolve.lineage import evolve_root
from world.evolve.pool import load_pool

PROBLEMS = "1,2,3,4,5,101,102,103"


def evolve(path: Path, run_id: str, *extra: str, agent: str = "reference") -> None:
    assert main(["evolve", "--world", str(path), "--agent", agent, "--lineages", "2",
                 "--rounds", "2", "--per-round", "2", "--problems", PROBLEMS, "--run-id", run_id,
                 *extra]) == 0


def shown(path: Path, run_id: str) -> set[int]:
    """Every problem any lineage of the run attempted."""
    with world.open(path) as w:
        run = evolve_root(w.image).runs[run_id]
        return {a.problem for g in run.generations.values() for l in g.lineages.values()
                for a in l.attempts()}


def test_held_out_problems_only_recorded_with_the_entry(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "w.fs"
    evolve(path, "a")
    seen = shown(path, "a")
    capsys.readouterr()
    record = tmp_path / "held.jsonl"
    assert main(["evolve", "hall", "--world", str(path), "a/0001", "--held-out",
                 "--agent", "reference", "--record", str(record)]) == 0
    out = capsys.readouterr().out
    replies = [json.loads(line) for line in record.read_text().splitlines()][1:]
    assert len(replies) == 5                # --record: the 4 problems and the reflection
    assert "held-out evaluation of a/0001 by reference" in out
    table = out[out.index("category  held-out"):].splitlines()
    assert table[0].split() == ["category", "held-out", "own"]
    assert table[-2].split()[0] == "all" and table[-2].split()[-2:] == ["4/4", "100%"]
    with world.open(path) as w:
        root = evolve_root(w.image)
        entry = root.hall["a/0001"]
        [held] = entry.held_out
        assert held["problems"] and not set(held["problems"]) & seen
        assert (held["solved"], held["attempted"]) == (4, 4)       # rounds 2 x 2 problems, no repeat
        assert len(set(held["problems"])) == held["attempted"]
        own = [l for l in root.runs["a"].generations[1].lineages.values() if l.name == entry.lineage]
        assert sum(v[1] for v in held["own_categories"].values()) == len(list(own[0].attempts()))
        run = root.runs[held["run"]]
        assert run.held_out_of == "a/0001" and run.status == "done"
        assert root.last_run == "a" and list(root.hall.keys()) == ["a/0001"]   # not a hall entry
        assert run.generations[1].seed_from == "hall a/0001"
        from world.evolve.report import lineages_view
        [hof] = lineages_view(w)["hall_of_fame"]
        assert hof["id"] == "a/0001" and hof["held_out"] == [{"run": run.id, "solved": 4,
                                                              "attempted": 4}]
    assert main(["evolve", "hall", "--world", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("4/4 (100%)")
    assert main(["evolve", "hall", "--world", str(path), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["held_out"]["run"] == held["run"]
    assert main(["evolve", "hall", "--world", str(path), "a/0001"]) == 0
    assert "held-out evaluation of a/0001" in capsys.readouterr().out
    assert main(["evolve", "hall", "--world", str(path), "a/0001", "--held-out", "--agent",
                 "reference", "--json", "--no-self-modify"]) == 0
    second = json.loads(capsys.readouterr().out)            # progress went to stderr
    assert second["problems"] == held["problems"] and second["run"] != held["run"]
    with world.open(path) as w:
        assert evolve_root(w.image).runs[second["run"]].settings["self_modify"] is False
    # a held-out run is carried on by `hall --held-out`, never by --resume
    assert main(["evolve", "--world", str(path), "--resume", held["run"]]) == 1
    assert "finished" in capsys.readouterr().err


def test_nothing_held_out_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "w.fs"
    evolve(path, "a")
    ids = ",".join(str(i) for i in sorted(shown(path, "a")))
    capsys.readouterr()
    assert main(["evolve", "hall", "--world", str(path), "a/0001", "--held-out",
                 "--agent", "reference", "--problems", ids]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no held-out problems for a/0001" in err
    with world.open(path) as w:
        assert list(evolve_root(w.image).runs.keys()) == ["a"]


def test_runs_started_from_the_hall_count_as_seen(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "w.fs"
    evolve(path, "a")
    evolve(path, "b", "--from-hall", "a/0001", "--seed", "2")
    only_b = shown(path, "b")
    each = shown(path, "a") | only_b
    with world.open(path) as w:
        root = evolve_root(w.image)
        both = seen_problems(w, root.runs["b"])
        assert both == each and each != only_b
        unseen = unseen_problems(w, find_entry(w, "b/0001"), load_pool())
        assert not set(unseen) & both and len(unseen) == len(load_pool()) - len(both)


def test_an_interrupted_evaluation_is_carried_on(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "w.fs"
    evolve(path, "a")
    with world.open(path) as w:
        entry = find_entry(w, "a/0001")
        run, _ = _new_held_out_run(w, "a/0001", entry, {"agent": "reference", "rounds": 1})
        rid = run.id
    assert main(["evolve", "--world", str(path), "--resume", rid]) == 1
    assert "world evolve hall a/0001 --held-out" in capsys.readouterr().err
    with world.open(path) as w:                     # as after a crash: the run is there, unfinished
        held = evaluate_held_out(w, "a/0001", agent="reference", rounds=3)
        assert held["run"] == rid and [r.id for r in held_out_runs(w, "a/0001")] == [rid]
        assert evolve_root(w.image).runs[rid].settings["rounds"] == 1   # its own settings
        held2 = evaluate_held_out(w, "a/0001", agent="reference")       # a new one now
        assert held2["run"] != rid and len(find_entry(w, "a/0001").held_out) == 2


def test_a_model_sees_only_held_out_problems_and_the_entry_evaluator(
        tmp_path: Path, server: Any, capsys: pytest.CaptureFixture) -> None:
    server.default = extending
    path = tmp_path / "w.fs"
    evolve(path, "a", "--lineages", "1", "--rounds", "1", agent="model")
    seen = shown(path, "a")
    asked = len(server.requests)
    assert main(["evolve", "hall", "--world", str(path), "a/0001", "--held-out",
                 "--rounds", "1", "--per-round", "3"]) == 0     # the run's agent: the model
    later = [b["messages"][-1]["content"] for b in server.requests[asked:]]
    problems = {int(m) for text in later for m in re.findall(r"Problem (\d+) \(", text)}
    assert len(problems) == 3 and not problems & seen
    assert all("'twice" in text for text in later)
    with world.open(path) as w:
        [held] = find_entry(w, "a/0001").held_out
        assert held["solved"] == held["attempted"] == 3


def test_a_cost_limit_stops_it_and_a_higher_one_carries_it_on(
        tmp_path: Path, server: Any, capsys: pytest.CaptureFixture) -> None:
    server.default = extending
    path = tmp_path / "w.fs"
    evolve(path, "a")
    capsys.readouterr()
    flags = ["evolve", "hall", "--world", str(path), "a/0001", "--held-out", "--agent", "model",
             "--rounds", "1", "--per-round", "2"]
    assert main([*flags, "--max-cost", "0.000001"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--held-out --max-cost MORE" in err
    with world.open(path) as w:
        [run] = held_out_runs(w, "a/0001")
        assert run.status == "running" and not find_entry(w, "a/0001").held_out
    assert main([*flags, "--max-cost", "5"]) == 0
    with world.open(path) as w:
        [run] = held_out_runs(w, "a/0001")
        [held] = find_entry(w, "a/0001").held_out
        assert run.status == "done" and held["run"] == run.id and held["attempted"] == 2


def test_killed_mid_evaluation_it_carries_on(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    from agent_support import child_env, solving
    from messages_server import MessagesServer

    def slowly(body: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.1)
        return solving(body)

    path = tmp_path / "w.fs"
    evolve(path, "a")
    with MessagesServer(default=slowly) as server:
        env = child_env(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
        argv = ["evolve", "hall", "--world", str(path), "a/0001", "--held-out", "--agent", "model",
                "--rounds", "1", "--per-round", "3"]
        proc = subprocess.Popen([sys.executable, "-m", "repl.cli", *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        while True:                                 # killed once its first problem is solved
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if " problem " in line:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        assert main(argv) == 0                      # carried on in this process
    with world.open(path) as w:
        [run] = held_out_runs(w, "a/0001")
        [held] = find_entry(w, "a/0001").held_out
        assert held["run"] == run.id and (held["solved"], held["attempted"]) == (3, 3)
