"""Ablations (`--no-self-modify`, `--no-reflection`, `--no-metacognition`) through the
real SDK against the loopback Messages server: refused forms are one-line error cells,
the prompts stop offering them, and each ablation is recorded with the run and shown
by `world evolve report`. Also on a lineage world directly: aliases, helpers and
symbols built at run time are refused too, and nothing of it is stored."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

import world
from agent_support import child_env, solving
from messages_server import good
from repl.cli import main
from repl.cli_evolve import _setup
from world.evolve import run as R
from world.evolve.ablations import METACOGNITIVE, off
from world.evolve.lineage import Lineage, evolve_root, lineage_world
from world.evolve.meta import FORMS
from world.evolve.pool import load_pool
from world.evolve.scratchpad import Scratchpad
from world.evolve.seeding import install, seed_source
from world.evolve.slot import world_slot
from world.evolve.workspace import Workspace

POOL = load_pool()
SELF_MOD = "self-modification is off in this run (--no-self-modify)"
META_OFF = "metacognitive forms are off in this run (--no-metacognition)"


def system_text(body: dict[str, Any]) -> str:
    s = body.get("system", "")
    return s if isinstance(s, str) else "".join(b.get("text", "") for b in s)


def prompt_text(body: dict[str, Any]) -> str:
    c = body["messages"][-1]["content"]
    return c if isinstance(c, str) else "".join(b.get("text", "") for b in c)


def scripted(per_problem: dict[int, list[str]], reflection: str = '(note "no change")'
             ) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Replies by the order problems are met: the first problem asked gets script 0's
    turns, the next script 1's...; past its script, or with none, the reference solution."""
    order: list[int] = []
    turns: dict[int, int] = {}

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        m = re.search(r"Problem (\d+) \(", prompt_text(body))
        if m is None:
            return good(reflection)
        pid = int(m.group(1))
        if pid not in order:
            order.append(pid)
        script = per_problem.get(order.index(pid), [])
        n = turns[pid] = turns.get(pid, -1) + 1
        if n < len(script):
            return good(script[n])
        p = POOL.get(pid)
        return good(f"{p.solution_text()}\n(done {p.call_text})")
    return answer


def cells(att: Any) -> dict[str, tuple[str, str, int]]:
    return {c.expr: (c.kind, c.result, c.steps) for c in att.cells.values()}


# ---------------------------------------------------------------- --no-self-modify

CHANGES = [
    ("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))", "extend-eval!"),
    ("(edit-eval! '(define (my-eval expr env) 42))", "edit-eval!"),
    ("(eval-rollback! 1)", "eval-rollback!"),
    ("(defnative! sq (x) (* x x))", "defnative!"),
    ("(g 'thrice '(lambda (expr env) 3))", "extend-eval!"),             # an alias
    ("((env-lookup '() (string->symbol \"edit-eval!\")) '(define (my-eval e v) 1))", "edit-eval!"),
]


def test_no_self_modify_refuses_every_change_and_the_prompts_do_not_offer_them(tmp_path, server):
    forms = [f for f, _ in CHANGES]
    turn1 = "I'll make my-eval faster first.\n```lisp\n" + "\n".join(forms[:4]) + "\n```"
    turn2 = "(define g extend-eval!)\n" + "\n".join(forms[4:])
    server.default = scripted({0: [turn1, turn2]},
                              reflection="(extend-eval! 'unless2 '(lambda (expr env) 0))")
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="nsm", lineages=1, rounds=2, per_round=1,
                      problems=(1, 2), self_modify=False, max_turns=5, reflection_turns=1)
        lineage = run.generations[1].lineages[0]
        first = lineage.rounds[1].attempts[0]
        got = cells(first)
        for form, shown in CHANGES:
            kind, result, _ = got[form]
            assert kind == "ERROR" and result.startswith(f"refused: {shown}: {SELF_MOD}"), result
        assert got["(define g extend-eval!)"][0] == "CODE"
        assert first.solved and first.changes == 0          # solved with plain definitions
        refl = lineage.rounds[1].reflection
        (kind, result, _), = cells(refl).values()
        assert kind == "ERROR" and SELF_MOD in result and refl.changes == refl.bonus == 0
        assert lineage.natives == 0 and len(world_slot(lineage.root).versions) == 1
        assert lineage.fitness["new_constructs"] == 0 and all(a.solved for a in lineage.attempts())
        # the prompts: no change offered, and reflection asks for helpers instead
        for body in server.requests:
            system = system_text(body)
            assert "(extend-eval! 'name" not in system and "(edit-eval! '(define" not in system
            assert "(defnative! name" not in system and "earns +" not in system
            assert "Writing a handler for extend-eval!" not in system
            assert "my-eval cannot be changed in this run" in system
            assert "(done expr)" in system and "(try expr)" in system
        reflections = [prompt_text(b) for b in server.requests if "is over" in prompt_text(b)]
        assert len(reflections) == 1
        assert "Changing my-eval is off in this run" in reflections[0]
        assert "Evolve my-eval" not in reflections[0] and "## Your evaluator" in reflections[0]
        assert "ablations: --no-self-modify" in _setup(run)
        assert run.settings["self_modify"] is False and off(run.settings) == ["--no-self-modify"]


# ---------------------------------------------------------------- --no-reflection

def test_no_reflection_skips_the_phase_between_rounds(tmp_path, server):
    server.default = solving
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="nr", lineages=1, rounds=3, per_round=1,
                      problems=(1, 2, 3), reflection=False)
        lineage = run.generations[1].lineages[0]
        assert [r.reflection for r in lineage.rounds.values()] == [None, None, None]
        assert [r.bonus for r in lineage.rounds.values()] == [0, 0, 0]
        assert len(server.requests) == 3 and not any(
            "is over" in prompt_text(b) for b in server.requests)
        assert lineage.fitness["solved"] == 3 and run.status == "done"
        assert "ablations: --no-reflection" in _setup(run)
        asked = len(server.requests)
        R.start(w, agent="model", run_id="with", lineages=1, rounds=3, per_round=1,
                problems=(1, 2, 3))
        assert sum("is over" in prompt_text(b) for b in server.requests[asked:]) == 2


# ---------------------------------------------------------------- --no-metacognition

def test_no_metacognition_refuses_the_scratchpad_forms_and_shows_only_the_last_reply(
        tmp_path, server):
    turn1 = '(goal "sum")\n(note "try small")\n(try (+ 1 2))\n(check 3 (+ 1 2))\n(show-env)'
    turn2 = '(sub "a" (+ 1 2))\n(with-limit 10 (+ 1 2))\n(+ 40 2)'
    server.default = scripted({0: [turn1, turn2, "(done 0)"]})
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="nm", lineages=1, rounds=1, per_round=2,
                      problems=(1, 2), metacognition=False, max_turns=3)
        first, second = run.generations[1].lineages[0].rounds[1].attempts.values()
        got = cells(first)
        for form in turn1.splitlines() + turn2.splitlines()[:2]:
            name = form[1:].split()[0].rstrip(")")
            kind, result, steps = got[form]
            assert (kind, steps) == ("ERROR", 1) and result == f"refused: {name}: {META_OFF}: " \
                "send plain code and (done expr)", result
        assert got["(+ 40 2)"][:2] == ("CODE", "42")
        assert got["(done 0)"][0] == "DONE" and not first.solved and second.solved
        # each prompt shows the previous reply's results only, and no notes of failures
        prompts = [prompt_text(b) for b in server.requests]
        assert len(prompts) == 4
        assert all("## Scratchpad so far" not in p and "Notes from earlier" not in p
                   for p in prompts)
        assert "## Results of your last reply\n(empty)" in prompts[0]
        assert '(goal "sum")' in prompts[1] and "(+ 40 2)" not in prompts[1]
        assert "(+ 40 2)" in prompts[2] and '(goal "sum")' not in prompts[2]
        assert f"Problem {second.problem} (" in prompts[3] and "(done 0)" not in prompts[3]
        system = system_text(server.requests[0])
        for form in ("(try expr)", "(note \"text\")", "(sub \"label\"", "(with-limit", "(show-env)"):
            assert form not in system
        assert "(done expr)" in system and "(extend-eval! 'name" in system
        assert "Only plain code and (done expr) are evaluated in this run" in system
        assert "ablations: --no-metacognition" in _setup(run)


def test_with_metacognition_the_prompt_keeps_the_scratchpad_and_failure_notes(tmp_path, server):
    server.default = scripted({0: ['(note "n")', "(done 0)"]})
    with world.open(tmp_path / "w.fs") as w:
        R.start(w, agent="model", run_id="m", lineages=1, rounds=1, per_round=2,
                problems=(1, 2), max_turns=2)
        prompts = [prompt_text(b) for b in server.requests]
        assert len(prompts) == 3
        assert '## Scratchpad so far' in prompts[1] and '(note "n")' in prompts[1]
        assert "Notes from earlier attempts" in prompts[2]
        assert "ablations: none" in _setup(R.find_run(w, "m"))


# ---------------------------------------------------------------- on a lineage world

@pytest.fixture
def lineage_image(tmp_path: Path) -> Any:
    with world.open(tmp_path / "w.fs") as w:
        lin = Lineage("t", 1, 0, seed_source())
        evolve_root(w.image).hall["t/1"] = lin          # anywhere committed will do
        w.image.tm.commit()
        lw = lineage_world(w.image, lin)
        install(lw, lin.seed)
        lw.close()
        yield w, lin


def run_cells(w: Any, lin: Any, texts: list[str], **s: Any) -> list[tuple[str, str]]:
    lw = lineage_world(w.image, lin)
    try:
        ws = Workspace(lw, Scratchpad("p"), settings=s or None)
        return [(o.kind, o.result) for o in
                (ws.run_cell(world.read(t), t, 1_000_000) for t in texts)]
    finally:
        lw.close()


def test_refusals_reach_helpers_and_built_names_and_are_never_stored(lineage_image):
    w, lin = lineage_image
    out = run_cells(w, lin, [
        "(define (grow) (extend-eval! 'zz '(lambda (expr env) 1)))", "(grow)",
        "(define keep edit-eval!)", "(apply (eval (string->symbol \"eval-rollback!\")) '(1))",
        "(evolve/defnative! 'sq '(x) '((* x x)))", "(+ 1 2)"], self_modify=False)
    assert [k for k, _ in out] == ["CODE", "ERROR", "CODE", "ERROR", "ERROR", "CODE"]
    assert all(SELF_MOD in r for k, r in out if k == "ERROR")
    # a later open without the ablation has the real primitives; what was stored still loads
    out = run_cells(w, lin, ["(grow)", "(keep '(define (my-eval e v) 1))", "(+ 2 3)", "(zz)"])
    assert out[0][0] == "CODE" and out[1][0] == "ERROR" and SELF_MOD in out[1][1]
    assert out[2:] == [("CODE", "5"), ("CODE", "1")]        # my-eval now has the form zz
    # a fresh process that imports only `world` loads the stored refusal too
    w.image.tm.commit()
    code = ("import sys, world\n"
            "from world.evolve.lineage import evolve_root, lineage_world\n"
            "w = world.open(sys.argv[1], read_only=True)\n"
            "lw = lineage_world(w.image, evolve_root(w.image).hall['t/1'])\n"
            "print(lw.eval('keep'))\n")
    w.image.tm.abort()
    child = subprocess.run([sys.executable, "-c", code, str(w.image.path)], capture_output=True,
                           text=True, timeout=120, env=child_env())
    assert child.returncode == 0 and "self-modify-off:edit-eval!" in child.stdout, child.stderr


def test_metacognitive_forms_are_refused_but_done_and_code_run(lineage_image):
    w, lin = lineage_image
    texts = [f"({f} 1 2)" for f in METACOGNITIVE] + ["(* 6 7)", "(done (* 6 7))"]
    out = run_cells(w, lin, texts, metacognition=False)
    assert all(k == "ERROR" and META_OFF in r for k, r in out[:-2])
    assert out[-2] == ("CODE", "42") and out[-1][0] == "DONE"
    assert set(METACOGNITIVE) == set(FORMS) - {"done"}
    assert run_cells(w, lin, ['(note "fine")'])[0][0] == "NOTE"     # on by default


def test_the_cli_records_every_ablation_and_the_report_shows_them(tmp_path, capsys):
    image = str(tmp_path / "w.fs")
    assert main(["evolve", "--world", image, "--agent", "reference", "--lineages", "1",
                 "--rounds", "2", "--per-round", "1", "--problems", "1,2", "--run-id", "abl",
                 "--no-self-modify", "--no-reflection", "--no-metacognition"]) == 0
    capsys.readouterr()
    assert main(["evolve", "report", "abl", "--world", image,
                 "--png", str(tmp_path / "a.png")]) == 0
    out = capsys.readouterr().out
    assert "ablations: --no-self-modify --no-reflection --no-metacognition" in out
    with world.open(image) as w:
        run = R.find_run(w, "abl")
        assert (run.settings["self_modify"], run.settings["reflection"],
                run.settings["metacognition"]) == (False, False, False)
        lineage = run.generations[1].lineages[0]
        assert lineage.fitness["solved"] == 2 and lineage.rounds[1].reflection is None
