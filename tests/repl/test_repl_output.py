"""The REPL's output comforts: the pretty-printer, paging, multi-line strings, the
debugger's frames and locals, themes, readable inspect trees, and a CLI whose
reader closed the pipe."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import world
from repl import render
from repl.debugger import frame_text, frames_text
from repl.inspect_view import tree
from repl.output import Pager, layout, split_page
from repl_driver import drive
from world.lisp.errors import LispError
from world.lisp.pretty import MAX_NODES, pretty
from world.lisp.printer import write
from world.lisp.reader import read
from world.lisp.runtime import LOCALS_KEPT

ROOT = Path(__file__).resolve().parents[2]


def squash(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- the pretty-printer

VALUES = ["(iota 60)", "(list 1 (list 2 (list 3 (iota 30))) \"a b\")", "(cons 1 2)",
          "'(a b . c)", "(list 'quote (iota 40))", "{:a {:b {:c (iota 30)}} :d \"x\"}",
          "(map (lambda (i) {:id i :name (string-append \"item-\" (number->string i))}) (iota 5))",
          "'(define (fib n) \"Doc.\" (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))",
          "(vector (iota 25) [1 2] {})", "\"a\\nb\"", "(list {[1 2] 3} #\\a 1.5 :k)"]


@pytest.mark.parametrize("src", VALUES)
def test_pretty_reads_back_as_the_same_value_and_only_adds_line_breaks(w, src):
    v = w.eval(src)
    for width in (20, 40, 80):
        text = pretty(v, width)
        assert squash(text) == squash(write(v))
        assert read(text) == v


def test_pretty_fits_the_width_fills_small_items_and_puts_one_entry_per_line(w):
    text = pretty(w.eval("(iota 100)"), 40)
    assert all(len(line) <= 40 for line in text.splitlines())
    assert text.splitlines()[1].startswith(" 1")                    # aligned under the first item
    m = pretty(w.eval("{:alpha (iota 12) :beta \"two\" :gamma [1 2 3]}"), 30)
    assert [line[:7] for line in m.splitlines() if line.startswith(" :")] == [" :beta ", " :gamma"]
    assert pretty(w.eval("(iota 3)"), 40) == "(0 1 2)"                # what fits stays on one line


def test_pretty_lays_out_code_with_its_body_indented(w):
    text = pretty(w.eval("'(define (f x) (let ((y (* x x)) (z 2)) (list y z x x x x x)))"), 30)
    assert text.splitlines()[0] == "(define (f x)"
    assert text.splitlines()[1].startswith("  (let ")


def test_a_value_too_large_or_too_deep_to_lay_out_is_written_on_one_line(w):
    big = w.eval(f"(iota {MAX_NODES + 10})")
    assert pretty(big, 80) == write(big)
    deep = w.eval("(let loop ((i 0) (x '())) (if (= i 2000) x (loop (+ i 1) (list x))))")
    assert pretty(deep, 80) == write(deep)
    wide_and_deep = w.eval("(let loop ((i 0) (x '())) (if (= i 400) x (loop (+ i 1) "
                           "(list 'f 'aaaaaaaaaaaaaaaaaaaaaa x 'bbbbbbbbbbbbbbbbbbbbbbbbbb))))")
    assert pretty(wide_and_deep, 80, written="as written") == "as written"


# ---------------------------------------------------------------- layout and paging

def test_the_layout_rules_for_results():
    assert layout(42, "42", 80) == ("42", None)
    shown, note = layout("line one\nline two\n", '"line one\\nline two\\n"', 80)
    assert shown == "line one\nline two" and "a string of 2 lines" in note
    shown, note = layout("bell\x07\x1b[2J\nx", "", 80)              # no raw terminal controls
    assert "\x1b" not in shown and "\\x1b;" in shown
    assert layout("a\nb", '"a\\nb"', 80, pp=True) == ('"a\\nb"', None)


def test_pages_cut_at_line_ends_and_inside_a_line_longer_than_a_page():
    text = "\n".join(f"line {i}" for i in range(100))
    page, rest = split_page(text, 80, 10)
    assert page.splitlines() == [f"line {i}" for i in range(10)] and rest.startswith("line 10")
    page, rest = split_page("x" * 1000, 10, 5)
    assert page == "x" * 50 and len(rest) == 950
    assert split_page("short", 80, 10) == ("short", "")


def test_the_pager_says_how_much_is_left_and_gives_it_a_page_at_a_time():
    pager = Pager()
    text = "\n".join(str(i) for i in range(1000))
    page, note = pager.take(text, 80, 24)
    assert len(page.splitlines()) == 20
    assert note == f"… {len(text) - len(page) - 1:,} more characters: ,more shows the rest"
    seen = page.splitlines()
    while pager.rest:
        page, note = pager.more(80, 24)
        seen += page.splitlines()
    assert seen == text.splitlines() and note is None


def test_wide_results_are_pretty_printed_long_ones_paged_strings_shown_as_text(w):
    run = drive(w, "(iota 40)\r", "(iota 3000)\r", ",more\r", '(string-append "a" "\\n" "b")\r',
                ",pp (iota 12)\r", ",pp \"x\\ny\"\r")
    text = run.text.replace("\r", "")
    assert "\n(0 1 2 3 " in text and "\n 29 30 31" in text       # wrapped under the first item
    assert "more characters: ,more shows the rest" in text
    assert text.count("more characters") >= 2                     # ,more showed a page and said so
    assert "\na\nb\n; a string of 2 lines" in text
    assert "(0 1 2 3 4 5 6 7 8 9 10 11)" in text
    assert '"x\\ny"' in text                                       # ,pp writes a string quoted


def test_more_with_nothing_left_says_so(w):
    assert "error: ,more: nothing more to show" in drive(w, ",more\r").text


# ---------------------------------------------------------------- the debugger

DEFS = ["(define (f x) (let ((y (* x 2))) (car y)))", "(define (g a b) (+ 1 (f (+ a b))))"]


def failing(w, call: str = "(g 1 2)") -> LispError:
    for d in DEFS:
        w.eval(d)
    with pytest.raises(LispError) as info:
        w.eval(call)
    return info.value


def test_an_error_keeps_its_lisp_frames_innermost_first_with_their_locals(w):
    e = failing(w)
    assert [f.name for f in e.frames] == ["f", "g"]
    assert e.frames[0].locals == [("x", 3), ("y", 6)]
    assert e.frames[1].locals == [("a", 1), ("b", 2)]
    assert [(f.name, f.loc) for f in e.frames] == e.backtrace


def test_locals_read_through_boxes_and_the_inner_namesake_wins(w):
    w.eval("(define (h n) (let ((k 0)) (let ((inc (lambda () (set! k (+ k n))))) (inc) "
           "(let ((n 'inner)) (car n)))))")
    with pytest.raises(LispError) as info:
        w.eval("(h 5)")
    assert dict(info.value.frames[0].locals) == {"n": read("inner"), "k": 5,
                                                  "inc": dict(info.value.frames[0].locals)["inc"]}


def test_only_the_innermost_frames_keep_their_locals(w):
    w.eval("(define (down n) (if (= n 0) (car n) (+ 1 (down (- n 1)))))")
    with pytest.raises(LispError) as info:
        w.eval(f"(down {LOCALS_KEPT + 20})")
    frames = info.value.frames
    assert len(frames) >= LOCALS_KEPT + 20
    assert frames[0].locals == [("n", 0)] and frames[LOCALS_KEPT - 1].locals is not None
    assert frames[LOCALS_KEPT].locals is None
    assert "innermost frames only" in render.plain(frame_text(_Fail(info.value),
                                                               str(LOCALS_KEPT)))


class _Fail:
    def __init__(self, error: LispError) -> None:
        self.error, self.form = error, None


def test_frames_and_frame_views(w):
    e = failing(w)
    listing = render.plain(frames_text(_Fail(e)))
    assert "innermost first" in listing and "  0  f at " in listing and "  1  g at " in listing
    one = render.plain(frame_text(_Fail(e), "1"))
    assert "a = 1" in one and "b = 2" in one
    with pytest.raises(LispError, match="no frame 7; the frames are 0 to 1"):
        frame_text(_Fail(e), "7")
    with pytest.raises(LispError, match="expected a frame number"):
        frame_text(_Fail(e), "x")
    with pytest.raises(LispError, match="no error yet"):
        frames_text(None)


def test_frames_frame_and_retry_in_a_session(w):
    run = drive(w, *(d + "\r" for d in DEFS), "(g 1 2)\r", ",frames\r", ",frame 0\r",
                "(define (f x) (* x 10))\r", ",retry\r", ",retry\r")
    text = run.text.replace("\r", "")
    assert "  0  f at <repl>:1:" in text and "  x = 3\n  y = 6" in text
    assert "retrying (g 1 2)\n31\n" in text
    assert text.rstrip().endswith("31")                 # the last failure is still (g 1 2)'s


def test_retry_with_nothing_failed_and_frames_of_a_read_error(w):
    text = drive(w, ",retry\r", "(car '(1 . ))\r", ",frames\r").text
    assert "error: ,retry: no failed form to run again" in text
    assert "the last error has no Lisp frames" in text


# ---------------------------------------------------------------- inspect trees

def test_multi_line_source_stays_inside_the_tree_and_times_read_as_dates(w):
    w.eval('(define (f x)\n  "Doc."\n  (let ((y 1))\n    (+ x y)))')
    text = render.plain(tree(w.eval("(inspect 'f)")))
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if ":source (define (f x)" in line and "│" in line)
    assert lines[at + 1].startswith("│     │") and lines[at + 1].endswith('"Doc."')
    assert lines[at + 3].rstrip().endswith("(+ x y)))")
    diff = render.plain(tree(w.eval('{:diff "--- seed\\n+++ l1\\n-a\\n+b" :n 1}')))
    assert diff.splitlines()[1:5] == ["├─ :diff --- seed", "│        +++ l1", "│        -a",
                                      "│        +b"]
    m = w.eval("{:created 1790000000.5 :time 12 :finished 1800000000}")
    shown = render.plain(tree(m))
    assert ":created 2026-09-21T" in shown and ":time 12" in shown and ":finished 2027-" in shown


# ---------------------------------------------------------------- themes

def test_theme_choice_from_flag_environment_and_no_color(monkeypatch):
    monkeypatch.delenv("WORLD_THEME", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert render.theme_name() == "dark" and render.theme_name("light") == "light"
    monkeypatch.setenv("NO_COLOR", "1")
    assert render.theme_name() == "none"
    monkeypatch.setenv("WORLD_THEME", "Light")
    assert render.theme_name() == "light" and render.theme_name("dark") == "dark"
    monkeypatch.setenv("WORLD_THEME", "blue")
    with pytest.raises(ValueError, match="choose dark, light, none"):
        render.theme_name()
    try:
        render.use_theme("light")
        assert render.THEME == "light"
    finally:
        render.use_theme("dark")


def test_a_bad_theme_is_one_usage_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORLD_THEME="blue")
    done = subprocess.run([sys.executable, "-m", "repl.cli", "repl", "--memory"], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: unknown theme 'blue': choose dark, light, none "
                                   "(--theme or $WORLD_THEME)")


# ---------------------------------------------------------------- a closed pipe

@pytest.fixture(name="small_image", scope="module")
def small_image_fixture(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "w.fs"
    with world.open(path) as w:
        w.eval('(define (noisy n) "Prints." (if (= n 0) 0 (begin (display n) (newline) '
               '(noisy (- n 1)))))')
    return path


@pytest.mark.parametrize("args", [["eval", "(iota 2000)"], ["eval", "(noisy 3000)"],
                                  ["history", "log"], ["inspect", "noisy"],
                                  ["evolve", "hall"]])
def test_a_closed_pipe_ends_the_command_quietly(small_image, args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "repl.cli", *args, "--world", str(small_image)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    p.stdout.close()                    # the reader is gone before anything is written
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) in (0, 141), err
    assert err == ""


def test_piped_into_head(small_image):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = f"'{sys.executable}' -m repl.cli eval '(noisy 20000)' --world '{small_image}' | head -1"
    done = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout == "20000\n" and done.stderr == ""
