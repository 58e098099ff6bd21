"""`world evolve hall`: the listing (table and JSON), one entry whole, and the
one-line errors a user can cause, on a real image made by reference runs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import world
from repl.cli import main
from world.evolve.hall import entries, find_entry
from world.evolve.agent_errors import EvolveError

PROBLEMS = "1,2,3,4,5,101,102"


def evolve(path: Path, run_id: str, *extra: str) -> None:
    """A small reference run (no model) into the image at `path`."""
    assert main(["evolve", "--world", str(path), "--agent", "reference", "--lineages", "2",
                 "--rounds", "1", "--per-round", "2", "--problems", PROBLEMS, "--run-id", run_id,
                 *extra]) == 0


@pytest.fixture
def image(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    path = tmp_path / "w.fs"
    evolve(path, "a", "--generations", "2")
    capsys.readouterr()
    return path


def test_empty_hall_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = str(tmp_path / "w.fs")
    assert main(["evolve", "hall", "--world", path]) == 0
    assert capsys.readouterr().out.startswith("the hall of fame is empty")
    assert main(["evolve", "hall", "--world", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["evolve", "hall", "--world", path, "a/0001"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no hall-of-fame entry 'a/0001'" in err and "empty" in err


def test_listing_has_every_component_and_reopens(image: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["evolve", "hall", "--world", str(image)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "run", "gen", "lineage", "fitness", "solve", "novelty", "efficiency",
                                "diversity", "richness", "solved", "lines", "helpers", "natives",
                                "held-out"]
    assert [l.split()[0] for l in lines[1:]] == ["a/0001", "a/0002"]
    assert main(["evolve", "hall", "--world", str(image), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    with world.open(image) as w:
        stored = dict(entries(w))
    for row in rows:
        e = stored[row["id"]]
        assert (row["run"], row["generation"], row["lineage"]) == (e.run_id, e.generation, e.lineage)
        assert row["fitness"] == e.fitness["total"]
        assert row["components"] == {k: e.fitness[k] for k in
                                     ("solve", "novelty", "efficiency", "diversity", "richness")}
        assert (row["solved"], row["attempted"]) == (e.fitness["solved"], e.fitness["attempted"])
        assert row["evaluator_lines"] > 20            # pretty-printed, not the one stored line
        assert row["held_out"] is None
        assert isinstance(row["helpers"], int) and isinstance(row["natives"], int)


def test_one_entry_whole(image: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["evolve", "hall", "--world", str(image), "a/0002"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("a/0002: g2-L")
    assert "fitness " in out and "novelty " in out and "richness " in out
    body = out.split("my-eval:\n", 1)[1]
    assert body.startswith("(define\n  (my-eval expr env)")       # pretty-printed
    assert "not evaluated on held-out problems" in out
    assert main(["evolve", "hall", "--world", str(image), "a/0002", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    with world.open(image) as w:
        e = find_entry(w, "a/0002")
        assert world.write(world.read(view["evaluator"])) == e.evaluator     # the same form
    assert view["id"] == "a/0002" and view["categories"]["standard"][1] == view["attempted"]
    assert {"helpers_sources", "natives_sources", "held_out_runs"} <= set(view)


def test_unknown_ids_and_misused_flags_are_one_line(image: Path, capsys: pytest.CaptureFixture) -> None:
    for argv, words in [
        (["a/0009"], ["no hall-of-fame entry 'a/0009'", "entries are a/0001, a/0002"]),
        (["--held-out"], ["give its id"]),
        (["--rounds", "2"], ["are for --held-out"]),
    ]:
        assert main(["evolve", "hall", "--world", str(image), *argv]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: "), err
        assert all(w in err for w in words), err


def test_many_entries_error_says_how_to_list(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "w.fs"
    evolve(path, "m", "--generations", "9", "--lineages", "1")
    capsys.readouterr()
    with world.open(path) as w:
        with pytest.raises(EvolveError, match="9 entries.*list them with `world evolve hall`"):
            find_entry(w, "nope")


def test_read_only_lists_but_records_nothing(image: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["evolve", "hall", "--world", str(image), "--read-only"]) == 0
    assert "a/0001" in capsys.readouterr().out
    for argv in (["evolve", "hall", "--world", str(image), "--read-only", "a/0001", "--held-out",
                  "--agent", "reference"],
                 ["evolve", "--world", str(image), "--read-only", "--agent", "reference"],
                 ["evolve", "--world", str(image), "--read-only", "--resume"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "open read-only: drop --read-only" in err, err


def test_a_damaged_entry_is_still_listed(image: Path, capsys: pytest.CaptureFixture) -> None:
    with world.open(image) as w:
        e = find_entry(w, "a/0001")
        e.fitness, e.evaluator, e.package, e.held_out = {"total": "x", "solve": None}, 7, [1], 5
        w.image.tm.commit()
    assert main(["evolve", "hall", "--world", str(image)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:5] == ["a/0001", "a", "1", "g1-L0", "-"]
    assert main(["evolve", "hall", "--world", str(image), "a/0001"]) == 0
    assert "(none recorded)" in capsys.readouterr().out
    assert main(["evolve", "hall", "--world", str(image), "--json"]) == 0
