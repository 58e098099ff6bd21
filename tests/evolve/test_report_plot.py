"""The report's PNG: one subplot per fitness component and the total, one series per
lineage across generations, the winner starred and failed lineages crossed, a title
naming the run, its agent, mode, size and date; deterministic bytes."""
from __future__ import annotations

import time

import pytest

import world
from report_runs import failed_run, reference_run
from world.evolve.lineage import evolve_root
from world.evolve.report import PANELS, figure, plot, png_bytes

PNG = b"\x89PNG\r\n\x1a\n"


def _run(path, run_id):
    w = world.open(path)
    return w, evolve_root(w.image).runs[run_id]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    path = tmp_path_factory.mktemp("plot") / "w.fs"
    reference_run(path, "two", lineages=2, generations=2)
    reference_run(path, "one", mode="single", lineages=None, rounds=1, generations=1)
    return path


def test_every_component_has_a_subplot_with_a_series_per_lineage(runs):
    w, run = _run(runs, "two")
    with w:
        fig = figure(run)
        axes = fig.axes
        assert [ax.get_title() for ax in axes] == list(PANELS)
        for ax in axes:
            lines = [line for line in ax.get_lines() if len(line.get_xdata())]
            assert len(lines) == 2                              # lineage 0 and 1
            assert all(len(line.get_xdata()) == 2 for line in lines)  # across both generations
            assert ax.get_ylabel().startswith(ax.get_title())
            assert [c.get_gid() for c in ax.collections] == ["winner", "winner"]
        assert {ax.get_xlabel() for ax in axes[3:]} == {"generation"}
        title = fig.get_suptitle()
        when = time.strftime("%Y-%m-%d", time.gmtime(run.created))
        for part in ("two", "reference", "tournament",
                     "2 lineages \u00d7 1 round \u00d7 2 generations", when):
            assert part in title, (part, title)
        assert "winner" in [t.get_text() for t in fig.legends[0].get_texts()]
        assert png_bytes(fig) == png_bytes(figure(run))         # deterministic


def test_one_lineage_one_generation(runs, tmp_path):
    w, run = _run(runs, "one")
    with w:
        fig = figure(run)
        assert len(fig.axes) == len(PANELS)
        for ax in fig.axes:
            assert len([ln for ln in ax.get_lines() if len(ln.get_xdata())]) == 1
        assert "single, 1 lineage \u00d7 1 round \u00d7 1 generation \u2014" in fig.get_suptitle()
        out = plot(run, str(tmp_path / "one.png"))
    data = open(out, "rb").read()
    assert data[:8] == PNG and len(data) > 5000


def test_a_failed_lineage_is_marked(tmp_path):
    failed_run(tmp_path / "w.fs")
    w, run = _run(tmp_path / "w.fs", "bad")
    with w:
        fig = figure(run)
        for ax in fig.axes:
            assert sorted(c.get_gid() for c in ax.collections) == ["failed", "winner"]
        assert "failed" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_an_unwritable_path_is_one_clear_error(runs, tmp_path):
    from world.evolve.agent_errors import EvolveError
    w, run = _run(runs, "one")
    with w, pytest.raises(EvolveError, match="cannot write .*nope"):
        plot(run, str(tmp_path / "nope" / "x.png"))
