"""The agent loop and tournaments: the reference player end to end, the real
SDK against a loopback Messages server (malformed, rate-limited, overloaded
replies), recording and deterministic replay."""
from __future__ import annotations

import json

import pytest

import world
from agent_support import solving
from messages_server import good, malformed, overloaded, rate_limited, system_text
from world.evolve import run as R
from world.evolve.agent_errors import EvolveError, ReplayMissing
from world.evolve.lineage import evolve_root
from world.evolve.players import REFERENCE_LABEL
from world.evolve.report import lineages_view, summary

SMALL = dict(lineages=2, rounds=2, generations=1, per_round=3, problems=(1, 2, 3, 4, 101, 102))


def cells(attempt):
    return [(c.kind, c.result) for c in attempt.cells.values()]


def outcome(run):
    """What a run decided, without times and usage: comparable across runs."""
    out = []
    for gen in run.generations.values():
        for l in gen.lineages.values():
            out.append((l.name, dict(l.fitness), [
                (r.number, a.problem, a.status, a.steps, cells(a))
                for r in l.rounds.values() for a in r.attempts.values()]))
    return out


def test_reference_tournament_end_to_end(tmp_path):
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        run = R.start(w, agent="reference", run_id="ref", **SMALL)
        assert run.status == "done" and run.agent == REFERENCE_LABEL
    with world.open(path) as w:                 # everything is in the image
        run = evolve_root(w.image).runs["ref"]
        gen = run.generations[1]
        assert set(gen.problems) == {1, 2} and all(len(p) == 3 for p in gen.problems.values())
        for l in gen.lineages.values():
            attempts = list(l.attempts())
            assert len(attempts) == 6 and all(a.solved and a.status == "solved" for a in attempts)
            assert all(0 < a.steps <= a.budget for a in attempts)
            assert [r.budget for r in l.rounds.values()] == [1500, 1200]
            assert [r.native_cap for r in l.rounds.values()] == [None, 10]
            assert l.rounds[1].reflection.status == "done" and l.rounds[2].reflection is None
            f = l.fitness
            assert f["solve"] == 1.0 and set(f) >= {"novelty", "efficiency", "diversity", "richness"}
            assert f["total"] == pytest.approx(0.5 * f["solve"] + 0.15 * f["novelty"]
                                               + 0.15 * f["efficiency"] + 0.1 * f["diversity"]
                                               + 0.1 * f["richness"], abs=1e-5)
            # the helpers the solutions defined live in the lineage's namespace, not the world's
            assert "factorial" in l.root.definitions or "rev" in l.root.definitions
        assert "factorial" not in w.image.root.definitions
        assert gen.winner == 0 and run.settings["budgets"] == (1500, 1200, 1000, 600)
        hall = list(evolve_root(w.image).hall.values())
        assert [(h.run_id, h.lineage) for h in hall] == [("ref", "g1-L0")]
        view = lineages_view(w)
        assert view["hall_of_fame"][0]["lineage"] == "g1-L0"
        assert [r["name"] for r in view["runs"][0]["generations"][0]["lineages"]] == ["g1-L0", "g1-L1"]
        assert summary(run)["agent"].startswith("reference")


def test_reference_tournament_next_generation_is_seeded_by_the_winner(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="reference", run_id="g2", **dict(SMALL, generations=2, rounds=1))
        g1, g2 = run.generations[1], run.generations[2]
        winner = g1.lineages[g1.winner]
        assert g2.seed_from == winner.name and g2.seed == winner.evaluator
        assert all(l.seed == winner.evaluator for l in g2.lineages.values())
        assert len(evolve_root(w.image).hall) == 2


def test_model_loop_handles_malformed_rate_limited_and_overloaded_replies(tmp_path, server):
    server.add(malformed("I think this works: (define (factorial n) (if (= n 0) 1"),
               rate_limited(0), overloaded(),
               good("(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))\n"
                    "(done (factorial 5))"))
    server.default = solving
    rec = tmp_path / "replies.jsonl"
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", model="claude-sonnet-4-6", run_id="m", record=str(rec),
                      lineages=1, rounds=1, per_round=1, problems=(1,))
        att = run.generations[1].lineages[0].rounds[1].attempts[0]
        assert att.solved and att.why == "solved"
        kinds = [k for k, _ in cells(att)]
        assert kinds == ["CODE", "DONE"]         # a note about the reply costs no cell
        t0, t1 = att.turns[0], att.turns[1]
        assert "held no form" in t0.notes       # the unbalanced define was inline in prose
        assert [c["status"] for c in t0.calls] == ["ok"]
        assert [c["status"] for c in t1.calls] == ["rate-limited", "overloaded", "ok"]
        assert "About your last reply" in t1.prompt and "held no form" in t1.prompt
        assert "Problem 1 (factorial" in t0.prompt and "(my-eval" in t0.prompt or "my-eval" in t0.prompt
        usage = run.usage.as_dict()
        assert usage["calls"] == 4 and usage["tokens_in"] == t0.tokens_in + t1.tokens_in > 0
        assert usage["cost"] > 0 and run.generations[1].lineages[0].usage.as_dict() == usage
        first = outcome(run)
    lines = [json.loads(x) for x in rec.read_text().splitlines()]
    assert "header" in lines[0] and [x["key"] for x in lines[1:]] == ["g1-L0/r1/0-1/t0", "g1-L0/r1/0-1/t1"]
    # Replaying the recording, offline, decides exactly the same.
    with world.open(tmp_path / "again.fs") as w:
        run = R.start(w, agent=f"replay:{rec}", run_id="m", lineages=1, rounds=1, per_round=1,
                      problems=(1,))
        assert outcome(run) == first
        assert run.agent.startswith("replay of replies.jsonl")


def test_replay_is_deterministic_for_a_whole_tournament(tmp_path):
    rec = tmp_path / "ref.jsonl"
    outcomes = []
    for name, agent in (("a", "reference"), ("b", f"replay:{rec}"), ("c", f"replay:{rec}")):
        with world.open(tmp_path / f"{name}.fs") as w:
            run = R.start(w, agent=agent, run_id="x", record=str(rec) if name == "a" else None,
                          **SMALL)
            outcomes.append(outcome(run))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    with world.open(tmp_path / "d.fs") as w:       # the recorded settings are the default
        run = R.start(w, agent=f"replay:{rec}", run_id="x")
        assert outcome(run) == outcomes[0] and run.settings["lineages"] == 2


def test_replay_without_the_reply_is_a_clear_error(tmp_path):
    rec = tmp_path / "one.jsonl"
    with world.open(tmp_path / "a.fs") as w:
        R.start(w, agent="reference", run_id="x", record=str(rec), lineages=1, rounds=1,
                per_round=1, problems=(1,))
    with world.open(tmp_path / "b.fs") as w:
        with pytest.raises(ReplayMissing, match=r"one.jsonl has no reply for g1-L0/r1/0-2/t0"):
            R.start(w, agent=f"replay:{rec}", run_id="x", lineages=1, rounds=1, per_round=1,
                    problems=(2,))


def test_budget_and_cell_limits_end_an_attempt(tmp_path, server):
    server.default = lambda body: good("(define (spin n) (spin (+ n 1)))\n(spin 0)")
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="b", lineages=1, rounds=1, per_round=1,
                      problems=(1,))
        att = run.generations[1].lineages[0].rounds[1].attempts[0]
        assert not att.solved and att.why == "budget spent" and att.steps == att.budget == 1500
        assert cells(att)[-1][0] == "ERROR" and "step budget" in cells(att)[-1][1]
    server.default = lambda body: good('(note "a") (note "b") (note "c") (note "d") (note "e")')
    with world.open(tmp_path / "w2.fs") as w:
        run = R.start(w, agent="model", run_id="c", lineages=1, rounds=1, per_round=1,
                      problems=(1,), max_cells=12)
        att = run.generations[1].lineages[0].rounds[1].attempts[0]
        assert att.why == "cells used up" and len(att.cells) == 12 and len(att.turns) == 3


def test_a_model_that_fails_for_good_ends_the_attempt_not_the_run(tmp_path, server):
    server.default = lambda body: overloaded()
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="o", lineages=1, rounds=1, per_round=2,
                      problems=(1, 2), max_turns=1)
        atts = list(run.generations[1].lineages[0].attempts())
        assert [a.status for a in atts] == ["failed", "failed"]
        assert atts[0].why.startswith("model error: the model API gave up after 7 attempts")
        assert run.status == "done"


def test_missing_key_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with world.open(tmp_path / "w.fs") as w:
        with pytest.raises(EvolveError, match="ANTHROPIC_API_KEY is not set.*--agent reference"):
            R.start(w, agent="model", lineages=1, rounds=1)
        assert evolve_root(w.image, create=False) is None or not len(evolve_root(w.image).runs)


TWICE = "(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))"
THRICE = "(extend-eval! 'thrice '(lambda (expr env) (* 3 (my-eval (cadr expr) env))))"
BROKEN = "(extend-eval! 'bad 42)"


def evolving(body):
    """A scripted model that changes its evaluator while it solves and reflects."""
    text = body["messages"][-1]["content"]
    if "Round 1 is over" in text:
        if "## Reflection so far\n(empty)" not in text:
            return good('(note "enough")')
        return good(f"{THRICE}\n{BROKEN}")
    if "Problem 1 (" in text:
        return good(f"{TWICE}\n(defnative! sq (x) (* x x))\n(check 10 (twice 5))\n"
                    "(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))\n"
                    "(done (factorial 5))")
    if "Problem 2 (" in text:
        return good("(defnative! cube (x) (* x x x))\n"
                    "(define (rev-onto l a) (if (null? l) a (rev-onto (cdr l) (cons (car l) a))))\n"
                    "(define (rev l) (rev-onto l '()))\n(done (rev '(1 2 3 4)))")
    return solving(body)


def test_evaluator_changes_earn_bonuses_and_natives_are_capped(tmp_path, server):
    server.default = evolving
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="e", lineages=1, rounds=2, per_round=1,
                      problems=(1, 2), native_caps=(None, 1), seed=3)
        lineage = run.generations[1].lineages[0]
        r1, r2 = lineage.rounds[1], lineage.rounds[2]
        assert r1.problems == (1,) and r2.problems == (2,)
        a1, a2 = r1.attempts[0], r2.attempts[0]
        assert a1.solved and a1.changes == 1 and a1.budget == 1500 + 150 and a1.bonus == 150
        assert [k for k, _ in cells(a1)] == ["CODE", "CODE", "CHECK", "CODE", "DONE"]
        assert cells(a1)[2][1] == "pass"
        # reflection: one change kept (+75 a problem next round), one refused
        refl = r1.reflection
        assert refl.changes == 1 and refl.bonus == 75
        assert cells(refl)[1][0] == "ERROR" and "refused" in cells(refl)[1][1]
        assert r2.bonus == 75 and a2.budget == 1200 + 75
        # round 2 allows one native and round 1 made one already
        assert cells(a2)[0][0] == "ERROR" and "at most 1 natives" in cells(a2)[0][1]
        assert a2.solved and lineage.natives == 1
        assert "twice" in lineage.evaluator and "thrice" in lineage.evaluator
        f = lineage.fitness
        assert f["novelty"] == pytest.approx(0.2) and f["new_constructs"] == 2
        assert f["richness"] > 0.1
        row = lineages_view(w)["runs"][0]["generations"][0]["lineages"][0]
        assert row["constructs"] == ["thrice", "twice"] and row["changes"] == 2
        assert "+" in row["evaluator_diff"] and "twice" in row["evaluator_diff"]


def test_prompts_carry_evaluator_helpers_steps_and_failure_notes(tmp_path, server):
    def script(body):
        text = body["messages"][-1]["content"]
        if "Problem 1 (" in text:
            return good('(define (sq x) "Square." (* x x))\n(done (sq 3))')
        return good('(note "thinking")')
    server.default = script
    with world.open(tmp_path / "w.fs") as w:
        R.start(w, agent="model", run_id="p", lineages=1, rounds=1, per_round=2,
                problems=(1, 2), max_turns=1)
    first, second = [r["messages"][0]["content"] for r in server.requests]
    assert "Problem 1 (factorial" in first and "(define\n  (my-eval expr env)" in first
    assert "1500 of 1500 steps left; 25 cells left" in first and "(none yet)" in first
    assert "Problem 2 (" in second
    assert "sq: (define (sq x)" in second                      # the helper persisted
    assert "problem 1 (factorial) failed: turns used up" in second  # the failure note
    assert system_text(server.requests[0]).startswith("You are an agent in World")
