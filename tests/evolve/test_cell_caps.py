"""Lineage cells hold only the lineage grant: no image, host, history writes,
evaluation-mode switch or ground evaluation; `eval` in a cell goes through
the lineage's my-eval and is charged as my-eval's steps; the evaluator's own
globals change only through extend-eval!/edit-eval!. Checked through the real
SDK against the loopback Messages server, and on a lineage world directly."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

import world
from messages_server import good
from world.evolve import run as R
from world.evolve.evalprims import MODE_KEY
from world.evolve.lineage import Lineage, evolve_root, lineage_world
from world.evolve.scratchpad import Scratchpad
from world.evolve.seeding import install, seed_source
from world.evolve.workspace import Workspace

FIB = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))"

FORBIDDEN = [
    '(world/build-prod "prod.fs")', '(world/save "snap")', '(commit "a message")',
    "(undefine 'my-eval)", "(set-eval-mode! 'ground)", "(sandbox '(+ 1 2))", "(world/info)",
    '(world/save-dev "dev.fs")', "(world/pack)", "(audit/set-tolerance! 0)",
    "(define (my-eval expr env) 42)", "(set! my-apply 1)",
]


def test_forbidden_calls_from_model_cells_are_refused_and_change_nothing(tmp_path, server, monkeypatch):
    monkeypatch.chdir(tmp_path)             # a build-prod or save-dev would land here
    turns = iter(["\n".join(FORBIDDEN[i:i + 5]) for i in range(0, len(FORBIDDEN), 5)]
                 + ["(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))\n"
                    "(done (factorial 5))"])
    server.default = lambda body: good(next(turns) if "Problem" in body["messages"][-1]["content"]
                                       else '(note "no change")')
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="caps", lineages=1, rounds=1, per_round=1,
                      problems=(1,), max_turns=5, reflection_turns=1)
        lineage = run.generations[1].lineages[0]
        att = lineage.rounds[1].attempts[0]
        by_expr = {c.expr: (c.kind, c.result) for c in att.cells.values()}
        for text in FORBIDDEN:
            kind, result = by_expr[text]
            assert kind == "ERROR", (text, result)
            assert "unbound variable" in result or "refused" in result, (text, result)
        assert "part of the evaluator" in by_expr["(define (my-eval expr env) 42)"][1]
        assert att.solved                       # my-eval survived every attempt on it
        assert lineage.root.settings.get(MODE_KEY, "ground") == "ground"
        assert w.eval("(world/snapshots)") is None
        assert not list(tmp_path.glob("prod*")) and not list(tmp_path.glob("dev*"))


@pytest.fixture
def cell(tmp_path: Path) -> Iterator[Any]:
    """Run one form as a cell of a fresh lineage world: cell(text) -> (kind, result, steps)."""
    with world.open(tmp_path / "w.fs") as w:
        lin = Lineage("t", 1, 0, seed_source())
        evolve_root(w.image).hall["t/1"] = lin      # anywhere committed will do
        w.image.tm.commit()
        lw = lineage_world(w.image, lin)
        install(lw, lin.seed)
        pad = Scratchpad("p")
        ws = Workspace(lw, pad)

        def run(text: str) -> tuple[str, str, int]:
            out = ws.run_cell(world.read(text), text, 10_000_000)
            return out.kind, out.result, out.steps
        run.world, run.lineage = lw, lin
        try:
            yield run
        finally:
            lw.close()


def test_eval_in_a_cell_goes_through_my_eval_at_my_evals_price(cell):
    cell(FIB)
    _, value, direct = cell("(fib 12)")
    kind, by_eval, through = cell("(eval '(fib 12))")
    assert kind == "CODE" and value == by_eval == "144"
    assert direct <= through <= direct + 10          # the call itself, nothing cheaper
    cell("(defnative! nfib (n) (if (< n 2) n (+ (nfib (- n 1)) (nfib (- n 2)))))")
    _, _, ground = cell("(nfib 12)")
    assert ground * 3 < through                      # a ground run would cost this little
    # a native cannot reach the ground through eval either: its eval is my-eval's
    cell("(defnative! via-eval () (eval '(fib 12)))")
    _, _, native = cell("(via-eval)")
    assert native >= direct


def test_a_definition_made_through_eval_is_the_lineages_and_my_eval_is_kept(cell):
    kind, result, steps = cell("(eval '(define (seven) 7))")
    assert (kind, result) == ("CODE", "seven") and steps < 50
    assert cell("(seven)")[:2] == ("CODE", "7")
    assert "seven" in cell.world.image.root.definitions     # committed in its own namespace
    kind, result, _ = cell("(eval '(define (my-eval expr env) 42))")
    assert kind == "ERROR" and "part of the evaluator" in result
    assert cell("(+ 1 2)")[:2] == ("CODE", "3")
    assert "environment" in cell("(eval 'x 5)")[1]
    # the lineage's helpers may still be named like handlers; only the evaluator's are kept
    assert cell("(define (my-eval/while expr env) 1)")[0] == "CODE"


def test_a_lineage_may_define_its_own_eval(cell):
    assert cell("(define (eval x) (list 'mine x))")[0] == "CODE"
    assert cell("(eval 1)")[1] == "(mine 1)"


def test_the_owner_keeps_ground_eval_sandbox_and_the_mode_switch(tmp_path):
    with world.open(tmp_path / "o.fs", out=lambda text: None) as w:
        assert world.write(w.eval("(eval '(+ 1 2))")) == "3"
        assert world.write(w.eval("(sandbox '(* 6 7))")) == "42"
        assert world.write(w.eval("(set-eval-mode! 'ground)")) == "ground"
        assert world.write(w.eval("(my-eval/eval '(+ 2 3))")) == "5"


def test_ground_code_cannot_rebind_the_evaluator(cell):
    """A native or a handler runs on the ground; it still cannot replace my-eval or its helpers."""
    assert cell("(defnative! hack () (set! my-eval (lambda (expr env) 42)))")[0] == "CODE"
    kind, result, _ = cell("(hack)")
    assert kind == "ERROR" and "my-eval is part of the evaluator" in result
    assert cell("(+ 1 2)")[:2] == ("CODE", "3")
    kind, result, _ = cell("(defnative! my-apply (f args) 0)")
    assert kind == "ERROR" and "part of the evaluator" in result
    handler = "'(lambda (expr env) (begin (set! my-eval (lambda (e n) 42)) 1))"
    assert cell(f"(extend-eval! 'hijack {handler})")[0] == "CODE"    # adopted: sanity never calls it
    kind, result, _ = cell("(hijack)")
    assert kind == "ERROR" and "part of the evaluator" in result
    assert cell("(+ 1 2)")[:2] == ("CODE", "3")
    # the evaluator's own machinery still changes it
    assert cell("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))")[0] == "CODE"
    assert cell("(twice 21)")[:2] == ("CODE", "42")
