"""The full-screen inspector, driven by keys through a pipe."""
from __future__ import annotations

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from repl import render
from repl.browser import Browser, source_of

from repl_driver import drive

UP, DOWN, RIGHT, LEFT = "\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D"


def browse(m, keys: str) -> Browser:
    with create_pipe_input() as pipe:
        b = Browser(m, input=pipe, output=DummyOutput())
        pipe.send_text(keys + "q")
        b.run()
    return b


def test_rows_are_the_top_level_entries_at_first(w):
    w.eval('(define (sq x) "Square." (* x x))')
    b = Browser(w.eval("(inspect 'sq)"))
    labels = [r.label for r in b.rows()]
    assert labels[:3] == [":name", ":kind", ":type"]
    assert all(r.depth == 0 for r in b.rows())


def test_arrow_keys_walk_open_and_close(w):
    w.eval('(define (sq x) "Square." (* x x))')
    m = w.eval("(inspect 'sq)")
    labels = [r.label for r in Browser(m).rows()]
    versions = labels.index(":versions")
    # down to :versions, open it, step into [0], open it, down to its :version
    b = browse(m, DOWN * versions + RIGHT + RIGHT + RIGHT + DOWN)
    row = b.selected()
    assert row.label == ":seq" and row.depth == 2
    assert row.path[:1] == (versions,)
    # left twice: to the parent [0], then close it
    b2 = browse(m, DOWN * versions + RIGHT + RIGHT + RIGHT + DOWN + LEFT + LEFT)
    sel = b2.selected()
    assert sel.label == "[0]" and sel.path not in b2.expanded


def test_a_procedure_value_opens_into_its_description(w):
    w.eval('(define (sq x) "Square." (* x x))')
    m = w.eval("(inspect 'sq)")
    labels = [r.label for r in Browser(m).rows()]
    b = browse(m, DOWN * labels.index(":value") + RIGHT)
    kids = [r.label for r in b.rows() if r.depth == 1]
    assert kids[:3] == [":type", ":name", ":parameters"]
    assert ":source" in kids


def test_the_detail_pane_shows_source(w):
    w.eval('(define (sq x) "Square." (* x x))')
    m = w.eval("(inspect 'sq)")
    assert source_of(m) == '(define (sq x) "Square." (* x x))'
    assert source_of(w.eval("sq")) == '(lambda (x) "Square." (* x x))'
    labels = [r.label for r in Browser(m).rows()]
    b = browse(m, DOWN * labels.index(":versions") + RIGHT + DOWN)
    detail = render.plain(b._detail_text())
    assert detail.startswith("[0]\n\n(define (sq x)")


def test_home_end_and_bounds(w):
    m = w.eval("(inspect :world)")
    b = browse(m, UP + UP)
    assert b.cursor == 0
    n = len(b.rows())
    b = browse(m, "\x1b[F")            # End
    assert b.cursor == n - 1


def test_browse_command_runs_inside_the_repl(w):
    run = drive(w, ",browse :world\r", DOWN + DOWN + "q", "(+ 1 2)\r")
    assert run.text.splitlines()[-1] == "3"
    assert "error" not in run.text
