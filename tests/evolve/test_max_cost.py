"""--max-cost: a run priced through the real SDK stops before the model call that would go
past its limit, stays resumable, says how to go on in one line, and resumed with a higher
limit gives exactly the table of an uninterrupted run, alone or with worker processes."""
from __future__ import annotations

import re

import pytest

import world
from agent_support import solving, world_cli
from messages_server import good
from world.evolve.agent_errors import EvolveError
from world.evolve.lineage import MICRO, evolve_root
from world.evolve.report import table
from world.evolve.run import resume, start
from world.evolve.spend import CostLimit

PROBLEMS = "1,2,3,4,5,101,102"
CFG = dict(lineages=2, rounds=2, per_round=3, problems=(1, 2, 3, 4, 5, 101, 102), seed=1,
           model="claude-sonnet-4-6")
CLI = ["--agent", "model", "--model", "claude-sonnet-4-6", "--lineages", "2", "--rounds", "2",
       "--per-round", "3", "--problems", PROBLEMS]


def two_turns(body):
    """Define the solution in one turn (committed to the lineage's world), submit it in the next."""
    from world.evolve.pool import load_pool
    text = body["messages"][-1]["content"]
    m = re.search(r"Problem (\d+) \(", text)
    if m is None:
        return good('(note "no change")')
    p = load_pool().get(int(m.group(1)))
    if "## Scratchpad so far\n(empty)" in text:
        return good(f"```lisp\n{p.solution_text()}\n```")
    return good(f"(done {p.call_text})")


def _full(tmp_path, server, script=solving):
    """The uninterrupted run: its table, its cost, and its dearest single call."""
    server.default = script
    with world.open(str(tmp_path / "full.fs")) as w:
        run = start(w, run_id="r", agent="model", **CFG)
        calls = [c["cost"] for g in run.generations.values() for l in g.lineages.values()
                 for a in l.attempts() for t in a.turns.values() for c in t.calls]
        return table(run), run.usage.cost(), max(calls)


def _state(path):
    with world.open(str(path)) as w:
        run = evolve_root(w.image).runs["r"]
        return run.status, run.usage.cost(), table(run)


def _turns(tmp_path):
    """The uninterrupted run's replies in the order asked: (first turn of a problem?, micro-dollars)."""
    out = []
    with world.open(str(tmp_path / "full.fs")) as w:
        run = evolve_root(w.image).runs["r"]
        for l in run.generations[1].lineages.values():
            for rnd in l.rounds.values():
                for a in rnd.attempts.values():
                    out += [(n == 0, round(t.cost * MICRO)) for n, t in a.turns.items()]
                if rnd.reflection is not None:
                    out += [(False, round(t.cost * MICRO)) for t in rnd.reflection.turns.values()]
    return out


@pytest.mark.parametrize("share", [0.3, 0.7])
def test_a_run_stops_at_its_limit_and_resumes_with_a_higher_one(tmp_path, server, share):
    full, total, dearest = _full(tmp_path, server, two_turns)
    turns = _turns(tmp_path)
    # The limit is reached by the first turn of a problem: the stop comes before its second.
    at = next(i for i in range(int(len(turns) * share), len(turns)) if turns[i][0])
    limit = sum(m for _, m in turns[:at + 1]) / MICRO
    server.cached.clear()               # the same cache writes as the uninterrupted run
    path = tmp_path / "w.fs"
    with world.open(str(path)) as w:
        with pytest.raises(CostLimit) as stop:
            start(w, run_id="r", agent="model", max_cost=limit, **CFG)
    assert stop.value.limit == limit and stop.value.spent == limit
    status, spent, _ = _state(path)
    assert status == "running" and spent == limit       # resumable; stopped before the next call
    with world.open(str(path)) as w:                    # between the turns of an attempt
        run = evolve_root(w.image).runs["r"]
        cut = [a for g in run.generations.values() for l in g.lineages.values()
               for a in l.attempts() if a.status == "running"]
        assert [len(a.turns) for a in cut] == [1]
    asked = len(server.requests)
    with world.open(str(path)) as w:                    # the same limit: stops again at once
        with pytest.raises(CostLimit, match=r"--resume r --max-cost MORE"):
            resume(w)
    assert len(server.requests) == asked
    with world.open(str(path)) as w:
        with pytest.raises(EvolveError, match="max_cost must be a positive number"):
            resume(w, max_cost=float("nan"))
        done = resume(w, max_cost=total * 10)
        assert table(done) == full and done.status == "done"
        assert done.settings["max_cost"] == total * 10


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), True, "5"])
def test_a_bad_limit_is_refused_before_the_run(tmp_path, server, bad):
    with world.open(str(tmp_path / "w.fs")) as w:
        with pytest.raises(EvolveError, match="max_cost must be a positive number of US dollars"):
            start(w, run_id="r", agent="model", max_cost=bad, **CFG)
    assert not server.requests


def _table_lines(out):
    return [line for line in out.splitlines() if re.match(r"(gen|\d+)\s", line)]


def _cli(server, path, *args):
    return world_cli("evolve", "--world", str(path), *args, ANTHROPIC_BASE_URL=server.url,
                     ANTHROPIC_API_KEY="sk-ant-test")


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_the_cli_stops_with_one_line_and_resumes_with_more(tmp_path, server, parallel):
    """Alone, or with two worker processes sharing the run's usage through ZEO."""
    full, total, dearest = _full(tmp_path, server)
    limit = round(total * 0.5, 6)
    path = tmp_path / "w.fs"
    out = _cli(server, path, *CLI, "--parallel", parallel, "--run-id", "r",
               "--max-cost", str(limit))
    assert out.returncode == 4, out.stderr
    status, spent, _ = _state(path)
    said = [line for line in out.stdout.splitlines() if "limit" in line]
    assert said == [f"cost limit: run r reached its ${limit:.4f} limit with an estimated "
                    f"${spent:.4f} spent and stopped between model calls; go on "
                    f"with `world evolve --resume r --max-cost MORE`"]
    assert status == "running" and limit <= spent < limit + int(parallel) * dearest
    if parallel == "1":             # caching off from now on: the cost changes, the table not
        asked = len(server.requests)
        again = _cli(server, path, "--resume", "r", "--max-cost", str(total * 10), "--no-cache")
        assert again.returncode == 0, again.stderr
        assert f"(limit ${total * 10:.4f}); prompt caching off" in again.stdout
        assert all(isinstance(r["system"], str) for r in server.requests[asked:])
    else:                           # resumed alone, in this process (the CLI path is above)
        with world.open(str(path)) as w:
            resume(w, max_cost=total * 10)
    assert _state(path)[2] == full


def test_a_tampered_limit_is_one_error_and_a_resume_with_a_good_one_mends_it(tmp_path, server):
    server.default = solving
    path = tmp_path / "w.fs"
    with world.open(str(path)) as w:
        with pytest.raises(CostLimit):
            start(w, run_id="r", agent="model", max_cost=1e-9, **CFG)
    with world.open(str(path)) as w:
        w.image.begin()
        run = evolve_root(w.image).runs["r"]
        run.settings = dict(run.settings, max_cost="lots")
        w.image.tm.commit()
    with world.open(str(path)) as w:
        with pytest.raises(EvolveError, match=r"run r holds a bad cost limit 'lots': resume it "
                                              r"with `world evolve --resume r --max-cost USD`"):
            resume(w)
        assert resume(w, max_cost=100.0).status == "done"
