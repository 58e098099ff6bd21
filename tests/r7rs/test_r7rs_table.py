"""The R7RS-small conformance table as tests: one test per row (r7rs_cases_*.py); pending
rows are non-strict expected failures. The per-section summary is printed at the end of
the run (conftest.py), as `python bench/r7rs.py` prints it."""
from __future__ import annotations

import re
from typing import Iterator

import pytest

import r7rs_table
from r7rs_table import Absent, Pending, Raises, SECTIONS

ROWS = r7rs_table.rows()


def row_id(row: r7rs_table.Row) -> str:
    """A readable test id: the section and the row's title."""
    return f"{row[0]} {row[1]}"


def params() -> list:
    """The rows as pytest parameters, pending ones marked as non-strict expected failures."""
    out = []
    for row in ROWS:
        marks = ()
        if isinstance(row[3], Pending):
            marks = (pytest.mark.xfail(reason=row[3].reason, strict=False),)
        out.append(pytest.param(row, id=row_id(row), marks=marks))
    return out


@pytest.fixture(scope="module")
def runner() -> Iterator[r7rs_table.Runner]:
    """One in-memory world per section, shared by its rows, closed at the end."""
    r = r7rs_table.Runner()
    yield r
    r.close()


@pytest.mark.parametrize("row", params())
def test_row(runner: r7rs_table.Runner, row: r7rs_table.Row) -> None:
    ok, why = runner.check(row)
    r7rs_table.RESULTS.append((row, ok))
    assert ok, f"{row[0]} {row[1]}: {row[2]}\n  {why}"


def test_table_covers_every_section() -> None:
    counts = {s: sum(r[0] == s for r in ROWS) for s in SECTIONS}
    assert all(n >= 5 for n in counts.values()), counts
    assert 300 <= len(ROWS) <= 600


def test_rows_are_well_formed() -> None:
    seen = set()
    for row in ROWS:
        assert len(row) == 4 and row[0] in SECTIONS, row
        section, title, source, expected = row
        assert (section, title) not in seen, f"two rows titled {title!r} in {section}"
        seen.add((section, title))
        want = r7rs_table.expectation(expected)
        assert not isinstance(want, Pending), f"{title}: a pending row wraps another pending row"
        assert isinstance(want, (str, Raises, Absent)), f"{title}: {want!r}"
        if isinstance(want, Absent):
            # the hint must say more than the names the row itself calls
            heads = re.findall(r"\(\s*([^\s()'\"#]+)", source)
            assert want.instead not in heads, f"{title}: the hint {want.instead!r} is a name the row calls"


def test_absent_needs_more_than_the_name() -> None:
    """`unbound variable: exit` does not say what to write instead, nor that it is absent."""
    import world
    e = world.EvalError("unbound variable: file-exists?")
    assert not r7rs_table.failed_as(e, Absent("file"), '(file-exists? "x")')[0]
    e = world.EvalError("file-exists?: the sandbox has no files, by design")
    assert r7rs_table.failed_as(e, Absent("file"), '(file-exists? "x")')[0]


def test_a_wrong_value_fails_the_row(runner: r7rs_table.Runner) -> None:
    assert not runner.check(("6.2", "wrong on purpose", "(+ 1 2)", "4"))[0]
    assert not runner.check(("6.2", "no error", "(+ 1 2)", Raises("error")))[0]
    assert runner.check(("6.8", "vector syntaxes compare equal", "(vector 1 2)", "#(1 2)"))[0]


def test_bench_prints_the_table_as_json(capsys: pytest.CaptureFixture) -> None:
    """`python bench/r7rs.py --json`: every section with its counts, and the overall figure."""
    import importlib.util
    import json
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "r7rs.py")
    spec = importlib.util.spec_from_file_location("bench_r7rs", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["section"] for s in report["sections"]] == list(SECTIONS)
    assert report["total"] == len(ROWS) == sum(s["total"] for s in report["sections"])
    assert 0 < report["passed"] <= report["total"]
    assert all(s["passed"] <= s["total"] and s["absent"] <= s["total"] for s in report["sections"])
