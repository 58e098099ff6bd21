"""Tournaments through the `world evolve` command: resuming after SIGKILL,
worker processes sharing the world through ZEO, the report, bad input."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import world
from agent_support import child_env, solving, world_cli
from messages_server import MessagesServer
from world.evolve.lineage import evolve_root
from world.evolve.players import REFERENCE_LABEL

PROBLEMS = "1,2,3,4,5,101,102"


def turns(path):
    """(lineage, round, position) -> (status, turns) of every attempt and reflection."""
    out = {}
    with world.open(path) as w:
        root = evolve_root(w.image)
        run = root.runs[root.last_run]
        for g in run.generations.values():
            for l in g.lineages.values():
                for r in l.rounds.values():
                    for pos, a in r.attempts.items():
                        out[(l.name, r.number, pos)] = (a.status, len(a.turns))
                    if r.reflection is not None:
                        out[(l.name, r.number, "reflect")] = (r.reflection.status, len(r.reflection.turns))
    return out


def lineages(path):
    with world.open(path) as w:
        root = evolve_root(w.image)
        run = root.runs[root.last_run]
        return run.status, [(l.name, l.status, l.owner, [(a.problem, a.status) for a in l.attempts()],
                             l.fitness) for g in run.generations.values() for l in g.lineages.values()]


def test_resume_after_sigkill_loses_at_most_the_attempt_in_flight(tmp_path):
    path = tmp_path / "w.fs"

    def slowly(body):
        time.sleep(0.15)
        return solving(body)

    with MessagesServer(default=slowly) as server:
        env = child_env(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
        args = [sys.executable, "-m", "repl.cli", "evolve", "--world", str(path), "--agent", "model",
                "--lineages", "2", "--rounds", "2", "--per-round", "3", "--problems", PROBLEMS,
                "--run-id", "k"]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=str(tmp_path))
        seen = []
        while len([s for s in seen if " problem " in s]) < 4:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            seen.append(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        status, before = lineages(path)
        assert status == "running"
        finished = sum(1 for *_, atts, _ in before for _, s in atts if s != "running")
        assert finished >= 4
        asked = len(server.requests)
        kept = {k: v for k, v in turns(path).items() if v[0] != "running"}
        done = world_cli("evolve", "--world", str(path), "--resume", cwd=str(tmp_path),
                         ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
        assert done.returncode == 0, done.stderr
        assert "g1-L0" in done.stdout and "g1-L1" in done.stdout
        # Only the attempts not finished before the kill were asked again.
        final = turns(path)
        assert {k: final[k] for k in kept} == kept
        assert len(server.requests) - asked == (sum(n for _, n in final.values())
                                                - sum(n for _, n in kept.values()))
    status, after = lineages(path)
    assert status == "done"
    for name, st, _, atts, fit in after:
        assert st == "done" and len(atts) == 6 and all(s == "solved" for _, s in atts)
        assert fit["solve"] == 1.0
    # The finished attempts before the kill are the same records after it.
    for (n0, _, _, a0, _), (n1, _, _, a1, _) in zip(before, after):
        kept = [a for a in a0 if a[1] != "running"]
        assert a1[:len(kept)] == kept


def test_parallel_workers_share_the_world_through_zeo(tmp_path):
    path = tmp_path / "w.fs"
    done = world_cli("evolve", "--world", str(path), "--agent", "reference", "--parallel", "2",
                     "--lineages", "2", "--rounds", "2", "--per-round", "2",
                     "--problems", PROBLEMS, "--run-id", "p", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    status, rows = lineages(path)
    assert status == "done"
    owners = {owner for _, _, owner, _, _ in rows}
    assert all(owners) and all(":" in o for o in owners)
    assert all(st == "done" and len(atts) == 4 and all(s == "solved" for _, s in atts)
               for _, st, _, atts, _ in rows)
    assert "g1-L0" in done.stdout and "*" in done.stdout
    # The same tournament run alone decides the same.
    alone = tmp_path / "alone.fs"
    assert world_cli("evolve", "--world", str(alone), "--agent", "reference", "--lineages", "2",
                     "--rounds", "2", "--per-round", "2", "--problems", PROBLEMS,
                     "--run-id", "p", cwd=str(tmp_path)).returncode == 0
    _, solo = lineages(alone)
    assert [(n, a, f) for n, _, _, a, f in rows] == [(n, a, f) for n, _, _, a, f in solo]


def test_report_prints_a_table_and_writes_a_png(tmp_path):
    path = tmp_path / "w.fs"
    assert world_cli("evolve", "--world", str(path), "--agent", "reference", "--lineages", "2",
                     "--rounds", "1", "--generations", "2", "--per-round", "2",
                     "--problems", PROBLEMS, "--run-id", "rep", cwd=str(tmp_path)).returncode == 0
    png = tmp_path / "fit.png"
    out = world_cli("evolve", "report", "rep", "--world", str(path), "--png", str(png),
                    cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "run rep (done), agent: " + REFERENCE_LABEL
    header = out.stdout.splitlines()[1].split()
    assert header[:5] == ["gen", "lineage", "status", "solved", "fitness"]
    assert sum(1 for line in out.stdout.splitlines() if line.startswith(("1 ", "2 "))) == 4
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


@pytest.mark.parametrize("args,message", [
    (["evolve", "--memory", "--agent", "model", "--lineages", "1"], "ANTHROPIC_API_KEY is not set"),
    (["evolve", "--memory", "--agent", "bogus"], "unknown agent 'bogus'"),
    (["evolve", "--memory", "--agent", "replay:/nonexistent.jsonl"], "cannot read the replay file"),
    (["evolve", "--memory", "--resume"], "holds no evolution run"),
    (["evolve", "--memory", "--lineages", "0", "--agent", "reference"], "lineages must be a positive"),
    (["evolve", "--memory", "--problems", "1,x", "--agent", "reference"], "comma-separated"),
    (["evolve", "--memory", "--parallel", "2", "--agent", "reference"], "--parallel needs"),
    (["evolve", "report", "nope", "--memory"], "holds no evolution run"),
])
def test_bad_input_is_one_error_line(tmp_path, args, message):
    env = {"ANTHROPIC_API_KEY": ""}
    out = world_cli(*args, cwd=str(tmp_path), **env)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], out.stderr


def test_the_model_comes_from_the_worlds_settings(tmp_path):
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        w.image.begin()
        w.image.root.settings["evolve.model"] = "claude-haiku-4-5"
        w.image.commit("set the model")
    with MessagesServer(default=solving) as server:
        out = world_cli("evolve", "--world", str(path), "--lineages", "1", "--rounds", "1",
                        "--per-round", "1", "--problems", "1", cwd=str(tmp_path),
                        ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
        assert out.returncode == 0, out.stderr
        assert {r["model"] for r in server.requests} == {"claude-haiku-4-5"}
        assert "run run-" in out.stdout and "(claude-haiku-4-5)" in out.stdout


def test_a_failing_worker_is_one_error_line_and_the_run_can_resume(tmp_path):
    rec = tmp_path / "one.jsonl"
    assert world_cli("evolve", "--memory", "--agent", "reference", "--lineages", "2", "--rounds", "1",
                     "--per-round", "1", "--problems", "1", "--record", str(rec),
                     cwd=str(tmp_path)).returncode == 0
    path = tmp_path / "w.fs"
    out = world_cli("evolve", "--world", str(path), "--agent", f"replay:{rec}", "--parallel", "2",
                    "--lineages", "2", "--rounds", "1", "--per-round", "1", "--problems", "2",
                    cwd=str(tmp_path))
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: evolve: ") and "workers failed: replay: " in last
    assert "has no reply for g1-L" in last and last.count("error:") == 1
    status, rows = lineages(path)
    assert status == "running" and all(st != "done" for _, st, *_ in rows)
