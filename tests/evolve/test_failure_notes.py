"""Failure notes and reflection data, through the real SDK against the loopback Messages
server (which records every prompt it received): a failed attempt's note carries how it
ended, the steps and cells it used and its last error with the failing case; reflection
sees every problem of the round; notes stay one or two clipped lines."""
from __future__ import annotations

import re

import world
from agent_support import solving
from messages_server import good
from world.evolve import run as R
from world.evolve.prompt import NOTE_CHARS, failure_note, outcome_line

LONG = "x" * 600
SETTINGS = dict(agent="model", lineages=1, rounds=2, per_round=2, problems=(1, 2, 3, 4),
                max_turns=1)


def scripted(body):
    """Problem 1 ends with a wrong done, problem 2 (which defines a native) with an error;
    the rest are solved."""
    text = body["messages"][-1]["content"]
    if "Problem 1 (" in text:
        return good("(car 5)\n(done 121)")
    if "Problem 2 (" in text:
        return good(f"```lisp\n(defnative! sq (x) (* x x))\n(check 1 2)\n({LONG} 1)\n```")
    if "Round 1 is over" in text:
        return good('(note "no change")')
    return solving(body)


def prompts(server):
    return [r["messages"][-1]["content"] for r in server.requests]


def section(prompt, title):
    """The body of `## title` in a prompt, or ''."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z|^Reply with)", prompt, re.S | re.M)
    return m.group(1) if m else ""


def test_failure_notes_carry_the_last_error_the_case_and_the_steps(tmp_path, server):
    server.default = scripted
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, run_id="n", **SETTINGS)
        lin = run.generations[1].lineages[0]
        atts = {a.problem: a for a in lin.attempts()}
        notes = [failure_note(a) for a in lin.attempts() if a.status == "failed"]
    assert set(atts) >= {1, 2} and not atts[1].solved and not atts[2].solved
    later = [p for p in prompts(server) if "Notes from earlier attempts" in p]
    assert later, "no prompt after a failure"
    shown = section(later[-1], "Notes from earlier attempts")
    one = f"- problem 1 (factorial) failed: turns used up; {atts[1].steps} of {atts[1].budget} " \
          f"steps, 2 cells\n  last error: (done 121) => not solved: got 121, expected 120 for " \
          f"(factorial 5); a hidden case raised unbound variable: factorial"
    assert one in shown
    assert f"- problem 2 (reverse) failed: turns used up; {atts[2].steps} of 1500 steps, 3 cells" in shown
    assert "  last error: (xxxx" in shown and "=> unbound variable: xxxx" in shown
    for note in notes:                  # a resume rebuilds the very notes the prompt showed
        assert "- " + note in shown
        lines = note.splitlines()
        assert 1 <= len(lines) <= 2 and all(len(x) <= NOTE_CHARS + 2 for x in lines)
    # the native defined while failing is marked in the later helper lists
    assert "sq [native]: (define (sq x)" in section(later[-1], "Your helpers (persistent)")


def test_reflection_sees_every_problem_with_steps_cells_and_errors(tmp_path, server):
    server.default = scripted
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, run_id="r", **SETTINGS)
        lin = run.generations[1].lineages[0]
        first = list(lin.rounds[1].attempts.values())
        lines = [outcome_line(a) for a in first]
    reflection = next(p for p in prompts(server) if "Round 1 is over" in p)
    table = section(reflection, "Problems of this round")
    assert table.count("- problem ") == len(first) == 2
    for a, line in zip(first, lines):
        assert "- " + line in table
        assert f"problem {a.problem} ({a.name}; {a.category}): " in line
        assert f"{a.steps} of {a.budget} steps, {len(a.cells)} cells" in line
        assert ("solved" in line) == a.solved
        if not a.solved:
            assert f"failed ({a.why})" in line and "\n  last error: " in line
    assert "sq [native]" in section(reflection, "Your helpers (persistent)")


def test_prompts_are_the_same_on_a_second_run(tmp_path, server):
    """Replay is keyed by the prompt: the same script gives the same prompts, byte for byte."""
    server.default = scripted
    seen = []
    for name in ("a", "b"):
        with world.open(tmp_path / f"{name}.fs") as w:
            R.start(w, run_id="d", **dict(SETTINGS, rounds=1))
        seen.append(prompts(server) + [r.get("system") for r in server.requests])
        server.requests.clear()
    assert seen[0] == seen[1]
