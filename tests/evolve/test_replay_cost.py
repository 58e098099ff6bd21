"""A replay of recorded replies spends nothing new and gives the recorded run's table;
the endpoint and the model that answered are recorded with the run and reported."""
from __future__ import annotations

import world
from agent_support import solving, world_cli
from messages_server import MessagesServer
from world.evolve.report import models_used, summary, table
from world.evolve.run import start

CFG = dict(lineages=2, rounds=2, per_round=2, problems=(1, 2, 3, 4, 5), seed=1)


def test_a_replay_costs_nothing_new_and_names_its_endpoint(tmp_path, monkeypatch):
    record = tmp_path / "replies.jsonl"
    path = tmp_path / "w.fs"
    with MessagesServer(default=solving) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        with world.open(str(path)) as w:
            live = start(w, run_id="live", agent="model", model="claude-sonnet-4-6",
                         record=str(record), **CFG)
            live_table, live_usage = table(live), live.usage.as_dict()
            s = summary(live)
        asked = len(server.requests)
    assert live_usage["calls"] == asked and live_usage["cost"] > 0
    assert s["endpoints"] == [server.url] and s["models"] == ["claude-sonnet-4-6"]
    with world.open(str(path)) as w:          # the server is gone: a replay must not need it
        replay = start(w, run_id="again", agent=f"replay:{record}")
        assert table(replay) == live_table
        assert replay.usage.as_dict() == {"calls": 0, "tokens_in": 0, "tokens_out": 0, "cost": 0.0,
                                          "cache_write": 0, "cache_read": 0}
        assert list(replay.endpoints) == [f"replay:{record}"]
        assert models_used(replay) == ["claude-sonnet-4-6"]     # the model that answered then
    out = world_cli("evolve", "report", "again", "--world", str(path), "--png",
                    str(tmp_path / "p.png"))
    assert out.returncode == 0, out.stderr
    assert "0 model calls, 0 tokens in, 0 out, estimated $0.0000" in out.stdout
    assert f"endpoint: replay:{record}; model(s): claude-sonnet-4-6" in out.stdout
