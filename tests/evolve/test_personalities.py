"""Lineage personalities (`--personalities FILE`): the file's two formats, one-line
errors naming file and line, the text reaching each lineage's system prompt through
the real SDK (lineage i gets personality i % len), and the record of it with the
run, each lineage, the report and `(inspect :lineages)`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import world
from agent_support import solving
from repl.cli import main
from world.evolve import run as R
from world.evolve.agent_errors import EvolveError
from world.evolve.personalities import (MAX_FILE, for_lineage, load_personalities, name_for,
                                        parse)
from world.evolve.report import lineages_view, summary, table
from world.evolve.rounds import settings

BLOCKS = """\
# minimalist
Prefer the smallest evaluator that works.
## not a header: two hashes are text

# builder
Build abstractions: helpers, then special forms.
"""

JSON = """[
  {"name": "minimalist", "prompt": "Prefer the smallest evaluator that works."},
  {"name": "optimiser",
   "prompt": "Make common work cheaper."}
]
"""


def system_text(body: dict) -> str:
    """The system prompt of a request, as text (a cached one is a list of blocks)."""
    s = body.get("system", "")
    return s if isinstance(s, str) else "".join(b.get("text", "") for b in s)


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(p)


# ---------------------------------------------------------------- the file

def test_both_formats_read_into_name_text_pairs(tmp_path):
    assert load_personalities(write(tmp_path, "p.txt", BLOCKS)) == (
        ("minimalist", "Prefer the smallest evaluator that works.\n"
                       "## not a header: two hashes are text"),
        ("builder", "Build abstractions: helpers, then special forms."))
    assert load_personalities(write(tmp_path, "p.json", JSON)) == (
        ("minimalist", "Prefer the smallest evaluator that works."),
        ("optimiser", "Make common work cheaper."))
    # a BOM, CRLF line ends and a .txt holding JSON
    crlf = "\ufeff" + BLOCKS.replace("\n", "\r\n")
    assert load_personalities(write(tmp_path, "crlf.txt", crlf))[1][0] == "builder"
    assert len(load_personalities(write(tmp_path, "j.txt", JSON))) == 2


@pytest.mark.parametrize("name, text, line, why", [
    ("a.json", '[\n {"name": "a", "prompt": "x"},\n {"name": "b" "prompt": "y"}\n]', 3,
     "not valid JSON"),
    ("a.json", '{"name": "a", "prompt": "x"}', 1, "expected a JSON list"),
    ("a.json", '[\n {"name": "a", "prompt": "x"},\n\n {"name": "b"}\n]', 4, "missing 'prompt'"),
    ("a.json", '[{"name": "a", "prompt": "x", "tone": "dry"}]', 1, "unknown key 'tone'"),
    ("a.json", '[\n {"name": "a", "prompt": "x"},\n {"name": "a", "prompt": "y"}]', 3,
     "named twice (first at line 2)"),
    ("a.json", '[\n 7]', 2, "expected an object"),
    ("a.json", '[{"name": 3, "prompt": "x"}]', 1, "name is one line"),
    ("a.json", '[{"name": "a", "prompt": "  "}]', 1, "has no text"),
    ("a.json", "[]", 1, "no personalities"),
    ("a.json", "[" * 100_000, 1, "not valid JSON"),
    ("a.txt", "intro\n# a\nx\n", 1, "text before the first '# name' line"),
    ("a.txt", "# a\nx\n#\ny\n", 3, "needs a name"),
    ("a.txt", "# a\nx\n# b\n\n", 3, "'b' has no text"),
    ("a.txt", "# a\nx\n# a\ny\n", 3, "named twice"),
    ("a.txt", "# a\x1b[31m\nx\n", 1, "name is one line"),
    ("a.txt", "# " + "n" * 41 + "\nx\n", 1, "name is one line"),
    ("a.txt", "# a\n" + "x" * 8001 + "\n", 1, "longer than 8000"),
    ("a.txt", "", 1, "no personalities"),
    ("a.txt", b"# a\nok\n\xff\xfe\n", 3, "not UTF-8"),
])
def test_a_bad_file_is_one_line_naming_file_and_line(tmp_path, name, text, line, why):
    path = write(tmp_path, name, text)
    with pytest.raises(EvolveError) as e:
        load_personalities(path)
    msg = e.value.message
    assert msg.startswith(f"{path}:{line}: "), msg
    assert why in msg and "\n" not in msg and len(msg) < 300


def test_missing_huge_and_directory_files_are_one_line(tmp_path):
    for path, why in [(str(tmp_path / "none.txt"), "cannot read"), (str(tmp_path), "cannot read"),
                      (write(tmp_path, "big.txt", "# a\n" + "x" * MAX_FILE), "at most")]:
        with pytest.raises(EvolveError, match=why) as e:
            load_personalities(path)
        assert e.value.message.startswith(path) and "\n" not in e.value.message


def test_the_setting_is_checked_like_a_file_and_assigned_round_robin():
    s = settings(personalities=[["a", " one "], {"name": "b", "prompt": "two"}])
    assert s["personalities"] == (("a", "one"), ("b", "two"))
    assert [name_for(s, i) for i in range(5)] == ["a", "b", "a", "b", "a"]
    assert for_lineage(s, 3) == ("b", "two")
    assert settings()["personalities"] is None and name_for(settings(), 0) == ""
    assert settings(personalities=())["personalities"] is None
    for bad, why in [("a.txt", "pairs"), ([("a", "x", "y")], "pair"), ([("a b\n", "x")], "name"),
                     ([("a", "x"), ("a", "y")], "twice"), ([("a", 5)], "no text")]:
        with pytest.raises(EvolveError, match=why):
            settings(personalities=bad)


# ---------------------------------------------------------------- through the SDK

def test_each_lineage_is_sent_its_own_personality_and_it_is_recorded(tmp_path, server):
    server.default = solving          # one request per lineage: it solves problem 1 at once
    found = parse(BLOCKS)
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="pers", lineages=3, rounds=1, per_round=1,
                      problems=(1,), personalities=found)
        systems = [system_text(b) for b in server.requests]
        assert len(systems) == 3
        for i, system in enumerate(systems):
            mine, other = found[i % 2], found[(i + 1) % 2]
            assert system.rstrip().endswith(f"## Your personality\n{mine[1]}")
            assert other[1] not in system
        assert systems[0] == systems[2] != systems[1]
        # recorded with the run (the text itself) and with each lineage (its name)
        assert run.settings["personalities"] == found
        lineages = list(run.generations[1].lineages.values())
        assert [l.personality for l in lineages] == ["minimalist", "builder", "minimalist"]
        rows = summary(run)["generations"][0]["lineages"]
        assert [r["personality"] for r in rows] == ["minimalist", "builder", "minimalist"]
        head, *body = table(run)
        assert head[-1] == "personality" and [r[-1] for r in body] == [
            "minimalist", "builder", "minimalist"]
        view = lineages_view(w)["runs"][0]["generations"][0]["lineages"]
        assert [r["personality"] for r in view] == ["minimalist", "builder", "minimalist"]


def test_without_personalities_the_system_prompt_has_none(tmp_path, server):
    server.default = solving
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="plain", lineages=1, rounds=1, per_round=1,
                      problems=(1,))
        assert "## Your personality" not in system_text(server.requests[0])
        assert "personality" not in table(run)[0]
        assert run.generations[1].lineages[0].personality == ""


def test_the_cli_reads_the_file_into_the_run_and_the_report_names_them(tmp_path, capsys):
    image = str(tmp_path / "w.fs")
    path = write(tmp_path, "p.json", JSON)
    flags = ["--world", image, "--agent", "reference", "--lineages", "2", "--rounds", "1",
             "--per-round", "1", "--problems", "1"]
    assert main(["evolve", *flags, "--run-id", "cli", "--personalities", path]) == 0
    Path(path).unlink()                 # the content was recorded, not the path
    out = capsys.readouterr().out       # the table and setup lines, as `report` prints them
    assert "personalities: minimalist, optimiser" in out
    assert "optimiser" in out.split("personalities:")[0]            # the table's column
    with world.open(image) as w:
        run = R.find_run(w, "cli")
        assert run.settings["personalities"] == parse(JSON)
    bad = write(tmp_path, "bad.json", '[\n {"name": "a"}\n]')
    assert main(["evolve", *flags, "--run-id", "bad", "--personalities", bad]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{bad}:2:" in err and "missing 'prompt'" in err
    with world.open(image) as w:
        assert "bad" not in {r for r in R.evolve_root(w.image).runs.keys()}
