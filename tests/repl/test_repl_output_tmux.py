"""End to end in tmux: ,pp, ,more, multi-line strings, the debugger and the themes."""
from __future__ import annotations

import re
import sys

import pytest

from test_repl_tmux import TMUX, Terminal

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def repl(image, *flags: str, env: tuple[str, ...] = (), width: int = 80,
         height: int = 24) -> Terminal:
    term = Terminal(["env", "-u", "NO_COLOR", "-u", "WORLD_THEME", *env, sys.executable, "-m",
                     "repl.cli", "repl", "--world", str(image), *flags], width=width,
                    height=height)
    term.wait_for("world>")
    return term


def coloured(term: Terminal) -> str:
    """The screen with its colours, as tmux keeps them."""
    return term.tmux("capture-pane", "-p", "-e", "-t", "t")


def test_pp_more_and_a_multi_line_string(tmp_path):
    term = repl(tmp_path / "w.fs")
    try:
        term.keys(",pp (list (iota 30) {:name \"a\" :tags [:x :y]})", "Enter")
        term.wait_for(' 28\n  29)\n {:name "a" :tags [:x :y]})\n')     # width 80, one entry a line
        term.keys("C-l", "(iota 5000)", "Enter")
        screen = term.wait_for("more characters: ,more shows the rest")
        assert "\n(0 1 2 3 " in screen                   # the first page, cut to the screen
        term.keys("C-l", ",more", "Enter")
        term.wait_for(",more\n")
        term.wait_for("more characters: ,more shows the rest")
        term.keys("C-l", '(string-append "first line" "\\n" "second line")', "Enter")
        screen = term.wait_for("; a string of 2 lines")
        assert "\nfirst line\nsecond line\n" in screen
    finally:
        term.close()


def test_frames_frame_and_retry(tmp_path):
    term = repl(tmp_path / "w.fs")
    try:
        term.keys("(define (f x) (let ((y (* x 2))) (car y)))", "Enter")
        term.wait_for("; f committed as")
        term.keys("(define (g a b) (+ 1 (f (+ a b))))", "Enter")
        term.wait_for("; g committed as")
        term.keys("(g 1 2)", "Enter")
        term.wait_for("type error: car")
        term.keys(",frames", "Enter")
        screen = term.wait_for("1  g at")
        assert "0  f at <repl>:1:" in screen
        term.keys(",frame 0", "Enter")
        screen = term.wait_for("y = 6")
        assert "x = 3" in screen
        term.keys("(define (f x) (* x 10))", "Enter")
        term.keys(",retry", "Enter")
        screen = term.wait_for("retrying (g 1 2)")
        term.wait_for("\n31\n")
    finally:
        term.close()


def test_themes_colour_differently_and_none_not_at_all(tmp_path):
    shown = {}
    for name, flags, env in (("dark", (), ()), ("light", ("--theme", "light"), ()),
                             ("none", (), ("WORLD_THEME=none",))):
        term = repl(tmp_path / f"{name}.fs", *flags, env=env)
        try:
            term.keys('(list 4242 "str")', "Enter")
            term.wait_for('(4242 "str")')
            shown[name] = coloured(term)
        finally:
            term.close()

    def result_line(screen: str) -> str:
        """The result's line with its colours (the input's line starts with the prompt)."""
        return next(line for line in screen.splitlines() if SGR.sub("", line) == '(4242 "str")')

    def colour_before(line: str, text: str) -> str:
        codes = SGR.findall(line[:line.index(text)])
        return codes[-1] if codes else ""

    dark, light = result_line(shown["dark"]), result_line(shown["light"])
    assert colour_before(dark, "4242") not in ("", "0", "39")         # numbers are coloured
    assert colour_before(dark, "4242") != colour_before(light, "4242")
    assert colour_before(dark, '"str"') != colour_before(dark, "4242")
    none = result_line(shown["none"])
    assert not any(re.search(r"(^|;)(3[0-7]|38)(;|$)", c) for c in SGR.findall(none)), none
