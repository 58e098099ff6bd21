"""A replay answers by the hash of the prompt: a recorded reply is given only for the prompt it
answered, so a diverged run is refused instead of fed replies meant for other prompts."""
from __future__ import annotations

import json

import pytest

import world
from world.evolve.agent_errors import ReplayMissing
from world.evolve.report import table
from world.evolve.run import start

CFG = dict(lineages=2, rounds=2, per_round=2, problems=(1, 2, 3, 4, 5), seed=1)


@pytest.fixture
def recorded(tmp_path):
    record = tmp_path / "replies.jsonl"
    with world.open(str(tmp_path / "w.fs")) as w:
        live = start(w, run_id="live", agent="reference", record=str(record), **CFG)
        rows = table(live)
    return tmp_path, record, rows


def _lines(record):
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_every_recorded_reply_carries_its_prompts_hash_and_replays(recorded):
    tmp_path, record, rows = recorded
    replies = [r for r in _lines(record) if "key" in r]
    assert replies and all(len(r["prompt"]) == 64 for r in replies)
    with world.open(str(tmp_path / "w.fs")) as w:
        assert table(start(w, run_id="again", agent=f"replay:{record}")) == rows


def test_a_diverged_prompt_is_refused_not_answered(recorded):
    tmp_path, record, _ = recorded
    with world.open(str(tmp_path / "w.fs")) as w:
        with pytest.raises(ReplayMissing, match="differs from the recorded one"):
            start(w, run_id="other", agent=f"replay:{record}", change_bonus=999)


def test_renamed_keys_still_replay_by_the_prompt(recorded):
    tmp_path, record, rows = recorded
    out = []
    for r in _lines(record):
        if "key" in r:
            r["key"] = "renamed/" + r["key"]
        out.append(json.dumps(r))
    record.write_text("\n".join(out) + "\n")
    with world.open(str(tmp_path / "w.fs")) as w:
        assert table(start(w, run_id="again", agent=f"replay:{record}")) == rows
