"""A resumed run gives exactly the table of an uninterrupted one: stopped after K turns
(in process, the records left as a crash leaves them) or killed with SIGKILL, then
resumed, with scripted replies whose later problems use a helper an earlier one made,
and with the reference player over two generations."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

import world
from agent_support import child_env, world_cli
from messages_server import MessagesServer, good
from world.evolve.lineage import evolve_root, lineage_world
from world.evolve.report import table
from world.evolve.run import resume, start
from world.lisp.reader import read
from world.evolve.scratchpad import Scratchpad
from world.evolve.workspace import Workspace

PROBLEMS = "1,2,3,4,5,101,102"
SMALL = dict(lineages=2, rounds=2, per_round=3, problems=(1, 2, 3, 4, 5, 101, 102), seed=1)
MY_REV = "(define (my-rev l) (if (null? l) '() (append (my-rev (cdr l)) (list (car l)))))"


def helper_user(body):
    """A model that makes a helper on its first problem (a turn of its own) and uses it later."""
    from world.evolve.pool import load_pool
    text = body["messages"][-1]["content"]
    m = re.search(r"Problem (\d+) \(", text)
    if m is None:
        return good('(note "no change")')
    p = load_pool().get(int(m.group(1)))
    solution = f"{p.solution_text()}\n(done {p.call_text})"
    if "## Scratchpad so far\n(empty)" not in text:
        return good(f"```lisp\n{solution}\n```")
    if "my-rev:" not in text:          # the helper is not listed yet: make it, alone
        return good(f"First a helper.\n```lisp\n{MY_REV}\n```")
    return good(f"```lisp\n(try (my-rev '(1 2 3)))\n{solution}\n```")


class Stop(BaseException):
    """Ends a run at a chosen point, as a kill would."""


def _run(path, stop_at=None, agent="model", **cfg):
    """Run to the end (the table) or stop at the `stop_at`-th turn (None), like a crash."""
    seen = [0]

    def progress(e):
        if e.get("phase") == "problem":
            seen[0] += 1
            if stop_at is not None and seen[0] >= stop_at:
                raise Stop()
    w = world.open(str(path))
    try:
        return table(start(w, progress, None, "r", agent=agent, **cfg))
    except Stop:
        w.image.abort()         # what the killed process had not committed is lost
        return None
    finally:
        w.close()


def _resume(path):
    w = world.open(str(path))
    try:
        return table(resume(w))
    finally:
        w.close()


def test_a_resumed_lineage_binds_the_helpers_it_committed(tmp_path):
    path = tmp_path / "w.fs"
    with MessagesServer(default=helper_user) as server:
        os.environ["ANTHROPIC_BASE_URL"], os.environ["ANTHROPIC_API_KEY"] = server.url, "sk-ant-test"
        try:
            assert _run(path, stop_at=6, **SMALL) is None
        finally:
            del os.environ["ANTHROPIC_BASE_URL"], os.environ["ANTHROPIC_API_KEY"]
    with world.open(str(path)) as w:
        run = evolve_root(w.image).runs["r"]
        lineage = run.generations[1].lineages[0]
        lw = lineage_world(w.image, lineage)
        try:
            out = Workspace(lw, Scratchpad("probe")).run_cell(read("(my-rev '(1 2 3))"),
                                                              "(my-rev '(1 2 3))", 5000)
        finally:
            lw.close()
    assert (out.kind, out.result) == ("CODE", "(3 2 1)")


@pytest.fixture
def helper_server(monkeypatch):
    with MessagesServer(default=helper_user) as s:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", s.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        yield s


def test_resumed_after_any_turn_the_table_is_the_uninterrupted_one(tmp_path, helper_server):
    full = _run(tmp_path / "full.fs", **SMALL)
    assert all(row[3] == "6/6" for row in full[1:])
    # 2: inside the first attempt, after its helper was committed; 4, 9: later attempts.
    for k in (2, 4, 9):
        path = tmp_path / f"k{k}.fs"
        assert _run(path, stop_at=k, **SMALL) is None
        assert _resume(path) == full, f"stopped at turn {k}"
    # No prompt after a resume differs from one of the uninterrupted run's.
    prompts = {r["messages"][-1]["content"] for r in helper_server.requests}
    assert all("unbound variable" not in p for p in prompts)


def test_the_reference_players_table_survives_resumes_across_generations(tmp_path):
    cfg = dict(SMALL, generations=2)
    full = _run(tmp_path / "full.fs", agent="reference", **cfg)
    for k in (3, 8, 14):
        path = tmp_path / f"k{k}.fs"
        assert _run(path, stop_at=k, agent="reference", **cfg) is None
        assert _resume(path) == full, f"stopped at turn {k}"


def _table_lines(out):
    return [line for line in out.splitlines() if re.match(r"(gen|\d+)\s", line)]


def test_sigkill_then_resume_prints_the_uninterrupted_table(tmp_path):
    def slowly(body):
        time.sleep(0.05)
        return helper_user(body)

    with MessagesServer(default=slowly) as server:
        env = dict(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
        args = ["evolve", "--agent", "model", "--lineages", "2", "--rounds", "2",
                "--per-round", "3", "--problems", PROBLEMS, "--run-id", "k"]
        full = world_cli(*args, "--world", str(tmp_path / "full.fs"), cwd=str(tmp_path), **env)
        assert full.returncode == 0, full.stderr
        expected = _table_lines(full.stdout)
        for lines in (5,):          # killed while the first lineage runs
            path = tmp_path / f"k{lines}.fs"
            proc = subprocess.Popen([sys.executable, "-m", "repl.cli", *args, "--world", str(path)],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    env=child_env(**env), cwd=str(tmp_path))
            for _ in range(lines):
                assert proc.stdout.readline()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            done = world_cli("evolve", "--world", str(path), "--resume", cwd=str(tmp_path), **env)
            assert done.returncode == 0, done.stderr
            assert _table_lines(done.stdout) == expected, f"killed after {lines} lines"
