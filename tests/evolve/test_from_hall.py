"""`--from-hall ID`: a run whose first generation starts from a stored hall-of-fame
evaluator, through the real SDK against the loopback Messages server."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import world
from messages_server import good
from repl.cli import main
from world.evolve.lineage import evolve_root, lineage_world
from world.evolve.pool import load_pool
from world.evolve.run import start
from world.evolve.seeding import seed_source
from world.evolve.agent_errors import EvolveError

# the handler calls a helper the lineage defined: the hall entry must carry both
TWICE = ("(define (dbl x) (* 2 x))\n"
         "(extend-eval! 'twice '(lambda (expr env) (dbl (my-eval (cadr expr) env))))")
PROBLEMS = "1,2,3"


def extending(body: dict[str, Any]) -> dict[str, Any]:
    """Teach my-eval `twice` with the first reply to every problem, then solve it."""
    text = body["messages"][-1]["content"]
    m = re.search(r"Problem (\d+) \(", text)
    if m is None:
        return good('(note "no change")')
    p = load_pool().get(int(m.group(1)))
    if "## Scratchpad so far\n(empty)" not in text:
        return good(f"(done {p.call_text})")
    teach = "" if "'twice" in text else TWICE + "\n"
    return good(f"```lisp\n{teach}{p.solution_text()}\n(done {p.call_text})\n```")


def run(path: Path, run_id: str, *extra: str) -> int:
    return main(["evolve", "--world", str(path), "--agent", "model", "--lineages", "1",
                 "--rounds", "1", "--per-round", "2", "--problems", PROBLEMS, "--run-id", run_id,
                 *extra])


def test_a_run_starts_from_the_hall_entry(tmp_path: Path, server: Any,
                                          capsys: pytest.CaptureFixture) -> None:
    server.default = extending
    path = tmp_path / "w.fs"
    assert run(path, "a") == 0
    with world.open(path) as w:
        entry = evolve_root(w.image).hall["a/0001"]
        assert "'twice" in entry.evaluator               # the winner taught my-eval a form
        assert [n for n, _ in entry.package["helpers"]] == ["dbl"]
    assert main(["evolve", "hall", "--world", str(path), "a/0001"]) == 0
    assert "helpers:\n  dbl: (define (dbl x) (* 2 x))" in capsys.readouterr().out
    asked = len(server.requests)
    assert run(path, "b", "--from-hall", "a/0001") == 0
    later = server.requests[asked:]
    # b's prompts show the inherited my-eval, so its model never teaches twice again
    assert later and all("'twice" in b["messages"][-1]["content"] for b in later)
    with world.open(path) as w:
        root = evolve_root(w.image)
        gen = root.runs["b"].generations[1]
        assert gen.seed_from == "hall a/0001"
        assert root.runs["b"].settings["from_hall"] == "a/0001"
        lineage = gen.lineages[0]
        assert lineage.seed == entry.evaluator != seed_source()
        lw = lineage_world(w.image, lineage)
        try:
            assert world.write(lw.eval("(eval-in my-eval '(twice 21))")) == "42"
            assert world.write(lw.eval("(dbl 4)")) == "8"             # installed whole
        finally:
            lw.close()
        assert "b/0001" in root.hall and root.last_run == "b"


def test_an_unknown_id_stops_before_the_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "w.fs"
    assert main(["evolve", "--world", str(path), "--agent", "reference", "--lineages", "1",
                 "--rounds", "1", "--per-round", "1", "--problems", PROBLEMS,
                 "--run-id", "a"]) == 0
    capsys.readouterr()
    assert main(["evolve", "--world", str(path), "--agent", "reference",
                 "--from-hall", "a/0002", "--run-id", "c"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no hall-of-fame entry 'a/0002': entries are a/0001" in err
    with world.open(path) as w:
        assert list(evolve_root(w.image).runs.keys()) == ["a"]     # nothing was started
        with pytest.raises(EvolveError, match="no hall-of-fame entry"):
            start(w, agent="reference", from_hall=7)


def test_from_hall_with_an_empty_hall(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["evolve", "--world", str(tmp_path / "w.fs"), "--agent", "reference",
                 "--from-hall", "x/0001"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hall of fame" in err and "empty" in err


@pytest.mark.parametrize("damage", [
    {"format": 1, "evaluator": "(define (my-eval expr env)", "helpers": (), "natives": ()},
    {"format": 1, "evaluator": "(define (other x) x)", "helpers": (), "natives": ()},
    {"format": 1, "evaluator": "(define (my-eval e n) 1)", "helpers": (("x", 5),), "natives": ()},
    42,
])
def test_a_damaged_hall_package_is_one_line_and_starts_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture, damage: Any) -> None:
    path = tmp_path / "w.fs"
    assert main(["evolve", "--world", str(path), "--agent", "reference", "--lineages", "1",
                 "--rounds", "1", "--per-round", "1", "--problems", PROBLEMS,
                 "--run-id", "a"]) == 0
    with world.open(path) as w:
        evolve_root(w.image).hall["a/0001"].package = damage
        w.image.tm.commit()
    capsys.readouterr()
    for argv in (["evolve", "--world", str(path), "--agent", "reference", "--from-hall", "a/0001"],
                 ["evolve", "hall", "--world", str(path), "a/0001", "--held-out",
                  "--agent", "reference"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "a/0001" in err and "internal" not in err, err
    assert main(["evolve", "hall", "--world", str(path), "a/0001"]) == 0     # still shown
    with world.open(path) as w:
        assert list(evolve_root(w.image).runs.keys()) == ["a"]
