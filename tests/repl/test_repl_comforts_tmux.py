"""End to end in tmux: ,steps raising the budget, exit/quit/help, did-you-mean, *1 *2 *3 *e,
,time, ,trace/,untrace, ,expand, ,doc, ,apropos and ,who-calls in a real terminal."""
from __future__ import annotations

import sys
import time

import pytest

from test_repl_tmux import TMUX, Terminal

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

FIB = '(define (fib n) "Fibonacci numbers." (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))'


def repl(image, *flags: str) -> Terminal:
    term = Terminal([sys.executable, "-m", "repl.cli", "repl", "--world", str(image), *flags],
                    width=160, height=40)
    term.wait_for("world>")
    return term


def ended(term: Terminal) -> bool:
    """Wait for the REPL's process to end; whether it did."""
    deadline = time.monotonic() + 30
    while term.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not term.alive()


def test_steps_raises_the_budget_and_the_toolbar_says_so(tmp_path):
    term = repl(tmp_path / "w.fs", "--steps", "20000")
    try:
        term.wait_for("steps — of 20,000")
        loop = "(let lp ((i 0)) (if (< i 30000) (lp (+ i 1)) 'done))"
        term.keys(loop, "Enter")
        term.wait_for("step budget of 20000 exhausted")
        term.keys(",steps 1000000", "Enter")
        term.wait_for("step budget: 1,000,000 per evaluation (and with it: memory")
        term.keys(loop, "Enter")
        term.wait_for("\ndone\n")
        term.wait_for(" of 1,000,000")              # the toolbar: the steps it took of the new budget
    finally:
        term.close()


def test_help_did_you_mean_and_exit(tmp_path):
    term = repl(tmp_path / "w.fs")
    try:
        term.keys(FIB, "Enter")
        term.wait_for("; fib committed as")
        term.keys("(fbi 10)", "Enter")
        term.wait_for("unbound variable: fbi (did you mean fib?)")
        term.keys("help", "Enter")
        term.wait_for(",who-calls")
        term.keys("C-l", "(help)", "Enter")
        term.wait_for("world> (help)")                 # the screen was cleared: what follows is new
        term.wait_for(",apropos")
        term.keys("(exit)", "Enter")
        assert ended(term), "(exit) did not end the REPL"
    finally:
        term.close()
    term = repl(tmp_path / "w.fs")
    try:
        term.keys("quit", "Enter")
        assert ended(term), "quit did not end the REPL"
    finally:
        term.close()


def test_last_values_time_and_expand(tmp_path):
    term = repl(tmp_path / "w.fs")
    try:
        term.keys("(+ 40 2)", "Enter")
        term.wait_for("\n42\n")
        term.keys("(list *1 'more)", "Enter")
        term.wait_for("(42 more)")
        term.keys("(car 1)", "Enter")
        term.wait_for("type error: car")
        term.keys("(error-object-message *e)", "Enter")
        term.wait_for('"type error: car: expected a pair, got an integer"')
        term.keys(FIB, "Enter")
        term.wait_for("; fib committed as")
        term.keys(",time (fib 12)", "Enter")
        term.wait_for("\n144\n")
        term.wait_for(" steps\n")
        term.keys("(defmacro my-unless (c . body) (list 'if c #f (cons 'begin body)))", "Enter")
        term.wait_for("; my-unless committed as")
        term.keys(",expand (my-unless done (display 1))", "Enter")
        term.wait_for("(if done #f (begin (display 1)))")
    finally:
        term.close()


def test_trace_doc_apropos_and_who_calls(tmp_path):
    term = repl(tmp_path / "w.fs")
    try:
        term.keys(FIB, "Enter")
        term.wait_for("; fib committed as")
        term.keys('(define (fib5) "Five." (fib 5))', "Enter")
        term.wait_for("; fib5 committed as")
        term.keys(",trace fib", "Enter")
        term.wait_for("tracing fib")
        term.keys("(fib 2)", "Enter")
        term.wait_for("(fib 2)\n  (fib 1)\n  => 1\n  (fib 0)\n  => 0\n=> 1\n1\n")
        term.keys(",untrace", "Enter")
        term.wait_for("stopped tracing fib")
        term.keys("C-l", "(fib 3)", "Enter")
        screen = term.wait_for("\n2\n")
        assert "(fib 2)" not in screen
        term.keys("C-l", ",doc fib", "Enter")
        term.wait_for("fib  procedure\n  (fib n)\n  Fibonacci numbers.")
        term.keys(",who-calls fib", "Enter")
        screen = term.wait_for("fib5  procedure  Five.")
        assert "fib   procedure" not in screen          # the definition itself is left out
        term.keys(",apropos fib", "Enter")
        term.wait_for("fib   procedure  Fibonacci numbers.\n  fib5  procedure  Five.")
    finally:
        term.close()
