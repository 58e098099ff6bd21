"""Prompt caching through the real SDK: the system prompt goes out as a text block marked
cache_control (none with --no-cache), the cache tokens the server reports are recorded in
the reply, the run's usage and the report, and priced at 1.25x (write) and 0.1x (read)."""
from __future__ import annotations

import pytest
from BTrees.Length import Length

import world
from agent_support import solving, world_cli
from messages_server import MessagesServer, good
from world.evolve.lineage import Usage, evolve_root
from world.evolve.model import Model, cost
from world.evolve.run import start

SYSTEM = "You are an agent in World. " * 40
CFG = dict(lineages=1, rounds=1, per_round=2, problems=(1, 2, 3), seed=1,
           model="claude-sonnet-4-6")


def test_cache_writes_and_reads_are_priced_from_the_input_price():
    assert cost("claude-sonnet-4-6", 0, 0, cache_write=1_000_000) == pytest.approx(3.75)
    assert cost("claude-sonnet-4-6", 0, 0, cache_read=1_000_000) == pytest.approx(0.30)
    assert cost("claude-haiku-4-5", 1000, 100, 2000, 3000) == pytest.approx(
        (1000 * 1.0 + 2000 * 1.25 + 3000 * 0.1 + 100 * 5.0) / 1e6)


def test_the_system_prompt_is_marked_and_the_second_call_reads_the_cache(server):
    server.add(good("(done 1)"), good("(done 2)"), good("(done 2)"))
    m = Model("claude-sonnet-4-6", cache=True, backoff=0.01)
    first, second = m.ask(SYSTEM, "turn one"), m.ask(SYSTEM, "turn two")
    req = server.requests[0]
    assert req["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert req["messages"] == [{"role": "user", "content": "turn one"}]     # the turn stays text
    assert first.cache_write > 0 and first.cache_read == 0
    assert second.cache_write == 0 and second.cache_read == first.cache_write
    a = second.attempts[0]
    assert a.cost == pytest.approx(cost("claude-sonnet-4-6", a.tokens_in, a.tokens_out, 0,
                                        a.cache_read))
    assert a.as_dict()["cache_read"] == a.cache_read
    # The cached prefix is cheaper than sending it again.
    assert second.cost < Model("claude-sonnet-4-6", backoff=0.01).ask(SYSTEM, "turn two").cost


def test_without_cache_nothing_is_marked_and_nothing_is_cached(server):
    server.add(good("x"), good("y"))
    m = Model("claude-sonnet-4-6", cache=False, backoff=0.01)
    replies = [m.ask(SYSTEM, "p"), m.ask(SYSTEM, "p")]
    assert [r["system"] for r in server.requests] == [SYSTEM, SYSTEM]
    assert all(r.cache_write == r.cache_read == 0 for r in replies)


def test_a_prefix_under_the_minimum_is_not_cached(monkeypatch):
    with MessagesServer([good("a"), good("b")], cache_min=1024) as s:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", s.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        m = Model("claude-sonnet-4-6", cache=True, backoff=0.01)
        replies = [m.ask("short rules", "p"), m.ask("short rules", "p")]
    assert all(r.cache_write == r.cache_read == 0 and r.tokens_in > 0 for r in replies)


def _run(tmp_path, server, name, **kw):
    server.default = solving
    with world.open(str(tmp_path / f"{name}.fs")) as w:
        run = start(w, run_id=name, agent="model", **CFG, **kw)
        usage = run.usage.as_dict()
        turns = [t for l in run.generations[1].lineages.values() for a in l.attempts()
                 for t in a.turns.values()]
        per_call = [c for t in turns for c in t.calls]
    return usage, per_call


def test_a_run_caches_its_system_prompt_and_counts_the_cached_tokens(tmp_path, server):
    usage, calls = _run(tmp_path, server, "cached")
    assert all(isinstance(r["system"], list) for r in server.requests)
    assert usage["cache_write"] > 0 and usage["cache_read"] > 0
    assert usage["cache_write"] == sum(c["cache_write"] for c in calls)
    assert usage["cache_read"] == sum(c["cache_read"] for c in calls)
    assert usage["cost"] == pytest.approx(sum(c["cost"] for c in calls), abs=1e-5)
    out = world_cli("evolve", "report", "cached", "--world", str(tmp_path / "cached.fs"),
                    "--png", str(tmp_path / "p.png"))
    assert out.returncode == 0, out.stderr
    assert (f"cached prompt tokens: {usage['cache_write']} written, {usage['cache_read']} read"
            in out.stdout)


def test_no_cache_sends_no_mark_and_costs_more(tmp_path, server):
    cached, _ = _run(tmp_path, server, "cached")
    asked = len(server.requests)
    plain, _ = _run(tmp_path, server, "plain", cache=False)
    assert all(isinstance(r["system"], str) for r in server.requests[asked:])
    assert plain["cache_write"] == plain["cache_read"] == 0
    assert plain["calls"] == cached["calls"] and plain["cost"] > cached["cost"]


def test_no_cache_through_the_cli_is_recorded_and_reported(tmp_path, server):
    server.default = solving
    out = world_cli("evolve", "--world", str(tmp_path / "w.fs"), "--agent", "model", "--model",
                    "claude-sonnet-4-6", "--lineages", "1", "--rounds", "1", "--per-round", "1",
                    "--problems", "1,2", "--no-cache", "--run-id", "nc",
                    ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="sk-ant-test")
    assert out.returncode == 0, out.stderr
    assert "prompt caching off" in out.stdout
    assert server.requests and all(isinstance(r["system"], str) for r in server.requests)


def test_a_usage_recorded_before_caching_reads_as_zero_and_counts_from_then_on(tmp_path):
    path = str(tmp_path / "old.fs")
    with world.open(path) as w:
        w.image.begin()
        root = w.image.conn.root()
        old = Usage()
        del old.cache_write, old.cache_read          # as a record from before prompt caching
        old.add(1, 10, 5, 0.25)
        root["old-usage"] = old
        w.image.tm.commit()
    with world.open(path) as w:
        old = w.image.conn.root()["old-usage"]
        assert old.cache_write is None
        assert old.as_dict() == {"calls": 1, "tokens_in": 10, "tokens_out": 5, "cost": 0.25,
                                 "cache_write": 0, "cache_read": 0}
        old.add(1, 1, 1, 0.0, cache_write=7, cache_read=3)
        w.image.tm.commit()
    with world.open(path) as w:
        old = w.image.conn.root()["old-usage"]
        assert isinstance(old.cache_write, Length)
        assert (old.as_dict()["cache_write"], old.as_dict()["cache_read"]) == (7, 3)
        assert evolve_root(w.image, create=False) is None
