"""`world evolve report RUN --html [PATH]`: one self-contained page (plots as PNG data
URIs, inline CSS, nothing fetched) with every setting the run holds, usage, every
fitness component per generation and lineage, solve rate per category, evaluator
diffs, the run's hall of fame; every string from the run escaped."""
from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

import pytest

import world
from agent_support import world_cli
from report_runs import SCRIPT, failed_run, reference_run
from world.evolve.agent_errors import EvolveError
from world.evolve.html_report import page, write_html
from world.evolve.lineage import evolve_root
from world.evolve.report import PANELS

PNG = b"\x89PNG\r\n\x1a\n"


class Nesting(HTMLParser):
    """Checks that every element is closed, in order (void elements aside)."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def self_contained(text: str) -> None:
    """Nothing in `text` is fetched or run: no script, link, remote src or href."""
    low = text.lower()
    assert "<script" not in low and "<link" not in low and "href=" not in low
    assert "src=\"http" not in low and "url(" not in low and "@import" not in low
    srcs = re.findall(r'src="([^"]*)"', text)
    assert len(srcs) == 2 and all(s.startswith("data:image/png;base64,") for s in srcs)
    for s in srcs:
        assert base64.b64decode(s.split(",", 1)[1])[:8] == PNG
    nesting = Nesting()
    nesting.feed(text.split("\n", 1)[1])        # past the doctype
    nesting.close()
    assert nesting.stack == []


def test_the_cli_writes_one_self_contained_page(tmp_path):
    path = tmp_path / "w.fs"
    reference_run(path, "pub", temperature=0.5, islands=2, migrate_every=1,
                  personalities=(("minimalist", "Keep <it> small."), ("builder", "Abstract.")))
    out = world_cli("evolve", "report", "pub", "--world", str(path), "--html", cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "html: pub-report.html"
    text = (tmp_path / "pub-report.html").read_text("utf-8")
    self_contained(text)
    for comp in PANELS:
        assert f"<th>{comp}</th>" in text and f"<th>mean {comp}</th>" in text
    with world.open(path) as w:
        run = evolve_root(w.image).runs["pub"]
        for key in run.settings:                            # every setting the run holds
            assert f"<td>{key}</td>" in text, key
        rows = [l.name for g in run.generations.values() for l in g.lineages.values()]
        cats = {a.category for g in run.generations.values() for l in g.lineages.values()
                for a in l.attempts()}
    assert all(f"<td>{name}" in text for name in rows)
    assert all(f"<td>{c}</td>" in text for c in cats)
    assert "pub/0001" in text and "pub/0002" in text         # the run's hall of fame
    assert "temperature</td><td class=\"n\">0.5" in text
    assert "<b>minimalist</b>: Keep &lt;it&gt; small." in text      # the settings, escaped
    assert "<th>island</th><th>personality</th>" in text             # columns the rows carry
    assert "island 1, seed from g1-L0, migrated from 0" in text
    assert "<li><b>ablations</b>: none</li>" in text
    assert "<li><b>personalities</b>: minimalist, builder</li>" in text
    assert "<li><b>islands</b>: 2, migrating every 1 generation(s)</li>" in text
    assert "pub \u2014 reference \u2014 tournament, 2 lineages" in text
    with world.open(path) as w, pytest.raises(EvolveError, match="cannot write .*nowhere"):
        write_html(w, evolve_root(w.image).runs["pub"], str(tmp_path / "nowhere" / "r.html"))

def test_every_string_from_the_run_is_escaped(tmp_path):
    path = tmp_path / "w.fs"
    failed_run(path)
    with world.open(path) as w:                  # a setting added later shows up, escaped
        run = evolve_root(w.image).runs["bad"]
        run.settings = {**run.settings, "future_knob": "<b>bold</b>", "model": SCRIPT,
                        "reflection": False}
        entry = evolve_root(w.image).hall["bad/0001"]         # a winner that needs a helper
        entry.package = {"format": 1, "evaluator": entry.evaluator, "natives": (),
                         "helpers": (("twice", f'(define (twice x) "{SCRIPT}" (* 2 x))'),)}
        w.image.tm.commit()
    with world.open(path) as w:
        text = page(w, evolve_root(w.image).runs["bad"])
        assert page(w, evolve_root(w.image).runs["bad"]) == text        # deterministic
    self_contained(text)
    assert SCRIPT not in text and "<b>bold</b>" not in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text and "<td>future_knob</td>" in text
    quoted = html.escape(SCRIPT)
    assert text.count(quoted) >= 3      # the model setting, the problem name, the evaluator diff
    assert "my-eval with 1 helper and 0 natives" in text      # the hall entry's helper
    assert "<h4>helper twice</h4><pre>(define (twice x) &quot;&lt;/pre&gt;&lt;script&gt;" in text
    assert '<tr class="failed"><td class="n">1</td><td>g1-L0</td><td>failed</td>' in text
    assert "cannot be read" in text
    assert "<li><b>ablations</b>: no reflection</li>" in text
