"""The REPL session driven through a real PromptSession (pipe input, dummy output)."""
from __future__ import annotations

import io
import os
import re
import signal
import threading
import time
from pathlib import Path

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.plain_text import PlainTextOutput

import pytest

import world
from repl import render, toolbar
from repl.repl import history_for, history_path
from repl.session import Repl, defined_name, indent_for
from world.history import history_of
from world.lisp import budget

from repl_driver import drive

ESC = "\x1b"
CTRL_C = "\x03"


COMMITTED = re.compile(r"^; (\S+) committed as [0-9a-f]{12}\b.*$")


def lines(text: str) -> list[str]:
    """The non-blank printed lines, a definition's commit line shortened to `NAME committed`."""
    return [COMMITTED.sub(r"\1 committed", ln) for ln in text.splitlines() if ln.strip()]


# ---------------------------------------------------------------- reading forms

def test_a_form_typed_over_several_lines_is_evaluated_once_complete(w):
    run = drive(w, "(define (sq x)\r", '"Square."\r', "(* x x))\r", "(sq 12)\r")
    assert run.status == 0
    assert lines(run.text) == ["sq committed", "144"]
    assert w.env.docs[world.read("sq")] == "Square."


def test_enter_inside_an_open_form_indents_the_next_line(w):
    seen = []
    run = drive(w, "(define (f x)\r(if x\r1 2))\r",
                before=lambda r: r.session.default_buffer.on_text_changed.add_handler(
                    lambda buf: seen.append(buf.text)))
    assert "(define (f x)\n  (if x\n    1 2))" in seen
    assert lines(run.text) == ["f committed"]


def test_escape_enter_inserts_a_newline_in_a_complete_form(w):
    run = drive(w, f"(+ 1{ESC}\r2)\r")
    assert lines(run.text) == ["3"]


def test_several_forms_on_one_line_each_print(w):
    run = drive(w, "(define a 1) (+ a 1) (list a 2)\r")
    assert lines(run.text) == ["a committed", "2", "(1 2)"]


INDENTS = [
    ("(define (f x)", 2),
    ("(let ((a 1)\n      (b 2))", 2),
    ("[1 2", 1),
    ("{:a 1", 1),
    ('(f "(" ', 2),
    ("(f #\\( ", 2),
    ("(a ; (\n", 2),
    ("(define (f x)\n  (if x", 4),
    ("(f)", 0),
]


@pytest.mark.parametrize("text,cols", INDENTS)
def test_indentation_follows_the_innermost_open_form(text, cols):
    assert indent_for(text) == cols


def test_defined_name():
    assert defined_name(world.read("(define (f x) x)")) == "f"
    assert defined_name(world.read("(define-record pt x y)")) == "pt"
    assert defined_name(world.read("(defmacro m (x) x)")) == "m"
    assert defined_name(world.read("(f 1)")) is None


# ---------------------------------------------------------------- output and errors

def test_errors_are_one_line_then_the_lisp_backtrace(w):
    run = drive(w, "(define (f x) (car x))\r", "(f 5)\r", "(+ 1 1)\r")
    out = lines(run.text)
    assert out[1].startswith("error: <repl>:1:")
    assert out[1].endswith("type error: car: expected a pair, got an integer")
    assert out[2].startswith("  in f at 1:")
    assert "Traceback" not in run.text
    assert out[-1] == "2"


def test_debug_shows_the_python_traceback(w):
    run = drive(w, "(car 5)\r", debug=True)
    assert "error: <repl>:1:1: type error" in run.text
    assert "Traceback (most recent call last)" in run.text


def test_internal_errors_say_so_and_keep_the_session():
    e = RuntimeError("oops")
    text = render.plain(render.error(e))
    assert text == "internal error: RuntimeError: oops (a bug in world, please report it)"


def test_a_definition_prints_its_commit_and_violations(w):
    run = drive(w, "(define (f x) (* x 42))\r", '(define (g x) "Doubled." (+ x x))\r')
    first, second = run.text.splitlines()
    commit = history_of(w).latest("f").id
    assert first == (f"; f committed as {commit} · info: magic-number: numeric literals other "
                     f"than 0 and 1: name them with a constant definition · info: "
                     f"missing-docstring: the procedure has no docstring")
    assert second == f"; g committed as {history_of(w).latest('g').id}"


def test_violations_are_coloured_by_severity():
    ft = render.committed("f", "abc123abc123", [("error", "redefines-core: x"),
                                                ("warning", "w"), ("info", "i")])
    styles = {text: style for style, text in ft}
    assert styles["error: redefines-core: x"] == "class:severity.error"
    assert styles["warning: w"] == "class:severity.warning"
    assert styles["info: i"] == "class:severity.info"
    assert styles["abc123abc123"] == "class:commit"


def test_program_output_ends_its_line_before_the_next_print(w):
    run = drive(w, '(display "hi")\r', "(+ 1 2)\r")
    assert lines(run.text) == ["hi", "3"]


def test_inspect_forms_print_as_trees(w):
    run = drive(w, '(define (sq x) "Square." (* x x))\r', "(define (g y) (sq y))\r",
                "(inspect 'sq)\r")
    text = run.text
    assert '├─ :doc "Square."' in text
    assert "└─ :callers (1 item)" in text and "└─ [0] g" in text


def test_the_step_budget_error_points_at_steps(w):
    run = drive(w, ",steps 1000\r", "(let loop ((i 0)) (loop (+ i 1)))\r")
    assert "budget exceeded: step budget of 1000 exhausted  (,steps N sets the budget)" \
        in run.text


# ---------------------------------------------------------------- Ctrl-C

def test_ctrl_c_while_typing_clears_the_input(w):
    run = drive(w, f"(car '(1 2){CTRL_C}", "(+ 40 2)\r")
    assert lines(run.text) == ["42"]


def _interrupt_when_running() -> threading.Thread:
    """Send this process SIGINT once an evaluation is running (as Ctrl-C in a terminal does)."""
    def watch() -> None:
        # Wait for an evaluation that keeps running (a short one, e.g. drawing the
        # toolbar, is not the loop), then press Ctrl-C, again while it still runs.
        deadline = time.monotonic() + 60
        running_since = None
        presses = 0
        while time.monotonic() < deadline and presses < 5:
            time.sleep(0.02)
            if budget.CURRENT is None:
                if presses:
                    return
                running_since = None
            elif running_since is None:
                running_since = time.monotonic()
            elif time.monotonic() - running_since > 0.3 + presses:
                os.kill(os.getpid(), signal.SIGINT)
                presses += 1
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C raises KeyboardInterrupt here, even in a test run started in the background
    by a non-interactive shell (which starts with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_evaluating_interrupts_and_rolls_the_form_back(image, tmp_path, ctrl_c_raises):
    image.eval("(define z 1)")
    watcher = _interrupt_when_running()
    run = drive(image, ",steps 100000000000\r",
                "(if #t (begin (define y 2) (set! z 5) (let loop () (loop))))\r",
                "(list z (inspect :world))\r")
    watcher.join()
    assert "interrupted: evaluation stopped; the form was rolled back" in run.text
    assert re.search(r"\(1\s+\{", run.text)     # z kept its value; the session went on
    assert not image.env.is_bound(world.read("y"))
    assert "y" not in image.names.defs
    image.close()
    again = world.open(tmp_path / "world.fs")      # and the image on disk agrees
    try:
        assert again.eval("z") == 1
        assert "y" not in again.names.defs
    finally:
        again.close()


# ---------------------------------------------------------------- toolbar

def test_toolbar_shows_where_pending_last_commit_and_steps(image, tmp_path):
    run = drive(image, "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\r",
                "(fib 15)\r")
    text = render.plain(run.repl.toolbar())
    where = str(tmp_path / "world.fs")
    steps = image.last.steps
    assert steps > 1000
    last = history_of(image).latest("fib").id
    assert text == f" world {where} │ pending 1 │ last commit {last} │ steps {steps:,} of 10,000,000"
    assert run.repl.session.bottom_toolbar == run.repl.toolbar


def test_toolbar_steps_are_blank_after_an_error(w):
    run = drive(w, "(+ 1 1)\r", "(car 1)\r")
    assert "steps — of" in render.plain(run.repl.toolbar())


def test_toolbar_and_history_of_a_zeo_world(tmp_path, monkeypatch):
    from world.objects.server import Server
    monkeypatch.setenv("HOME", str(tmp_path))
    server = Server(str(tmp_path / "served.fs"))
    try:
        with world.open(zeo=server.address) as zw:
            run = drive(zw, "(define shared 1)\r", history=history_for(zw))
            text = render.plain(run.repl.toolbar())
            assert text.startswith(f" world zeo://{server.address} │ pending 1 │ last commit ")
            path = history_path(zw)
            assert path.startswith(str(tmp_path)) and path.endswith(".history")
            assert "(define shared 1)" in Path(path).read_text()
    finally:
        server.stop()
    with world.open() as mem:
        assert toolbar.where(mem) == "<memory>"


# ---------------------------------------------------------------- ,-commands

def test_help_lists_commands_and_keys(w):
    run = drive(w, ",help\r")
    for name in (",help", ",steps", ",load", ",quit", ",browse", ",inspect", "Ctrl-R", "Ctrl-C"):
        assert name in run.text


def test_steps_sets_the_budget_of_each_evaluation(w):
    run = drive(w, ",steps 5000\r", ",steps\r", ",steps lots\r")
    assert run.repl.steps == 5000
    assert lines(run.text) == ["step budget: 5,000 per evaluation",
                               "step budget: 5,000 per evaluation",
                               "error: ,steps: expected a positive whole number, got 'lots'"]


def test_load_evaluates_a_files_forms_each_committed(image, tmp_path):
    src = tmp_path / "lib.lisp"
    src.write_text('(define (twice x) (* 2 x))\n(define k (twice 21))\n(display "loaded")\n')
    run = drive(image, f",load {src}\r", "k\r")
    assert f"loaded 3 forms from {src}" in run.text
    assert lines(run.text)[-1] == "42"
    assert "twice" in image.names.defs and "k" in image.names.defs


def test_load_reports_the_failing_form_with_its_file_and_line(w, tmp_path):
    src = tmp_path / "bad.lisp"
    src.write_text("(define a 1)\n\n(car a)\n(define b 2)\n")
    run = drive(w, f",load {src}\r")
    assert f"error: {src}:3:" in run.text and "type error: car" in run.text
    assert w.eval("a") == 1 and "b" not in w.names.defs


def test_load_of_a_missing_file_is_one_line(w, tmp_path):
    run = drive(w, f",load {tmp_path}/nope.lisp\r")
    assert lines(run.text) == [f"error: ,load: cannot read {tmp_path}/nope.lisp: "
                               f"No such file or directory"]


def test_quit_ends_the_session_and_unknown_commands_are_one_line(w):
    run = drive(w, ",frob\r", ",quit\r", "(display \"never\")\r")
    assert run.status == 0
    assert "never" not in run.text
    assert lines(run.text)[0].startswith("error: unknown command ,frob (commands: ,apropos, ,ask, ,browse")


def test_inspect_command_prints_a_tree(w):
    w.eval('(define (sq x) "Square." (* x x))')
    run = drive(w, ",inspect sq\r", ",i :snapshots\r")
    assert '├─ :doc "Square."' in run.text
    assert "├─ :count 0" in run.text


# ---------------------------------------------------------------- history

def test_history_lives_beside_the_image_and_keeps_whole_forms(image, tmp_path):
    path = history_path(image)
    assert path == str(tmp_path / "world.fs.history")
    drive(image, "(define (f x)\r(* x 2))\r", history=history_for(image))
    text = Path(path).read_text()
    assert "+(define (f x)\n+  (* x 2))" in text
    # The next session finds it: Up brings back the whole form.
    run = drive(image, "\x1b[A\r", history=history_for(image))
    assert lines(run.text) == ["f committed"]


def test_a_world_in_memory_keeps_history_in_memory(w):
    assert history_path(w) is None
    assert type(history_for(w)).__name__ == "InMemoryHistory"


def test_ctrl_r_searches_the_history(image):
    drive(image, "(define marker 7)\r", "(+ 1 1)\r", history=history_for(image))
    run = drive(image, "\x12marker\r\r", history=history_for(image))
    assert lines(run.text) == ["marker committed"]


def test_ctrl_d_leaves_with_every_form_committed(image, tmp_path):
    drive(image, "(define kept 1)\r")
    image.close()
    again = world.open(tmp_path / "world.fs")
    try:
        assert again.eval("kept") == 1
    finally:
        again.close()


def test_repl_constructor_takes_a_world_and_streams(w):
    r = Repl(w)
    assert r.world is w and r.steps == w.limits.steps


def test_right_accepts_the_suggestion_from_history(image):
    drive(image, "(define suggested-name 7)\r", history=history_for(image))
    out = io.StringIO()
    with create_pipe_input() as pipe:
        repl = Repl(image, input=pipe, output=DummyOutput(), show_output=PlainTextOutput(out),
                    history=history_for(image))

        def type_slowly() -> None:      # the suggestion is computed after each keystroke
            buffer = repl.session.default_buffer
            for keys in ("(+ 1 2)\r", "(define sugg", "\x1b[C", "\r", "\x04"):
                time.sleep(0.3)
                if keys == "\x1b[C":        # Right only once the suggestion is there
                    deadline = time.monotonic() + 20
                    while buffer.suggestion is None and time.monotonic() < deadline:
                        time.sleep(0.05)
                pipe.send_text(keys)
        threading.Thread(target=type_slowly, daemon=True).start()
        repl.run()
    assert lines(out.getvalue()) == ["3", "suggested-name committed"]
    assert history_of(image).latest("suggested-name").seq > 0


def test_results_are_highlighted_with_the_lexer():
    ft = render.value(world.read('(define x "s" 42 :k)'))
    styles = {text: style for style, text in ft}
    assert "keyword" in styles["define"]
    assert "literal.string" in styles['"s"'] and "literal.number" in styles["42"]
    assert render.plain(ft) == '(define x "s" 42 :k)'
