"""REPL comforts: ,steps raising the budget, exit/quit/help, did-you-mean, *1 *2 *3 *e,
,time, ,trace/,untrace, ,expand, ,doc, ,apropos, ,who-calls (driven through a real
PromptSession; the same commands in a real terminal are in test_repl_comforts_tmux.py)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import world
from repl import lookup, toolbar
from repl.commands import budget_for
from repl.trace import Traced
from world.history import history_of
from world.lisp.budget import DEFAULT_LIMITS, Limits
from world.lisp.errors import UnboundVariable
from world.lisp.types import Closure

from repl_driver import drive

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = re.compile(r"^; (\S+) committed as [0-9a-f]{12}\b.*$")
FIB = '(define (fib n) "Fibonacci numbers." (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\r'


def lines(text: str) -> list[str]:
    """The non-blank printed lines, a definition's commit line shortened to `NAME committed`."""
    return [COMMITTED.sub(r"\1 committed", ln).strip() for ln in text.splitlines() if ln.strip()]


# ---------------------------------------------------------------- ,steps

def test_budget_for_scales_memory_and_time_only_when_raised():
    base = Limits(steps=1000, memory=10_000, seconds=2.0)
    assert budget_for(base, 10) == replace(base, steps=10)
    raised = budget_for(base, 5000)
    assert (raised.steps, raised.memory, raised.seconds) == (5000, 50_000, 10.0)
    huge = budget_for(DEFAULT_LIMITS, 10 ** 15)            # memory stays under half the RAM
    assert DEFAULT_LIMITS.memory <= huge.memory <= max(DEFAULT_LIMITS.memory,
                                                       os.sysconf("SC_PAGE_SIZE")
                                                       * os.sysconf("SC_PHYS_PAGES") // 2)


def test_steps_raises_the_budget_past_the_starting_one_and_the_toolbar_tells_the_truth():
    # Accounted memory is cumulative: a budget of steps alone could never be spent here.
    w = world.open(limits=Limits(steps=20_000, memory=2_000_000))
    try:
        loop = "(let lp ((i 0)) (if (< i 20000) (begin (list i i i) (lp (+ i 1))) 'done))\r"
        run = drive(w, loop, ",steps 2000000\r", loop)
        out = lines(run.text)
        assert out[0].startswith("error: ") and "step budget of 20000 exhausted" in out[0]
        assert out[-1] == "done"
        assert run.repl.steps == 2_000_000 and w.limits.memory == 200_000_000
        assert 20_000 < run.repl.last_steps <= 2_000_000
        assert f"steps {run.repl.last_steps:,} of 2,000,000" in toolbar.text(
            w, run.repl.last_steps, run.repl.steps)
        run = drive(w, ",steps 100\r", loop)             # and lowers it again
        assert "step budget of 100 exhausted" in run.text
    finally:
        w.close()


# ---------------------------------------------------------------- exit, quit, help

@pytest.mark.parametrize("typed", ["exit", "quit", "(exit)", "(quit)", "(exit 0)"])
def test_exit_and_quit_leave_the_repl(w, typed):
    run = drive(w, "(+ 1 1)\r", typed + "\r", '(display "never")\r')
    assert run.status == 0
    assert lines(run.text) == ["2"]


@pytest.mark.parametrize("typed", ["help", "(help)", ",exit"])
def test_help_shows_the_help_and_exit_as_a_command_leaves(w, typed):
    run = drive(w, typed + "\r", "(+ 1 1)\r")
    if typed == ",exit":
        assert lines(run.text) == []
    else:
        assert ",apropos" in run.text and ",trace" in run.text and lines(run.text)[-1] == "2"


def test_a_world_that_defines_exit_gets_its_own(w):
    run = drive(w, '(define (exit) "mine")\r', "(exit)\r", "(+ 1 1)\r")
    assert lines(run.text)[1:] == ['"mine"', "2"]


def test_exit_outside_the_repl_is_one_line_saying_what_to_type(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "repl.cli", "eval", "--memory", "(exit)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: <eval>:1:1: unbound variable: exit (")
    assert ",quit" in first and "Ctrl-D" in first


# ---------------------------------------------------------------- did you mean

def test_an_unbound_name_suggests_the_nearest_defined_ones(w):
    w.eval('(define (fib n) n)')
    with pytest.raises(UnboundVariable) as e:
        w.eval("(fbi 10)")
    assert str(e.value).endswith("unbound variable: fbi (did you mean fib?)")
    with pytest.raises(UnboundVariable) as e:
        w.eval("(lenght '(1 2))")
    assert str(e.value).endswith("(did you mean length?)")
    with pytest.raises(UnboundVariable) as e:
        w.eval("(zqxj 1)")
    assert str(e.value).endswith("unbound variable: zqxj")
    # A program that catches the error sees the plain message, and no suggestion is computed.
    asked = []
    w.env.known_names = lambda: asked.append(1) or []
    assert w.eval('(let loop ((i 0) (last #f)) (if (= i 100) last (loop (+ i 1) '
                  '(guard (e (#t (error-object-message e))) (fbi 1)))))') == "unbound variable: fbi"
    assert asked == []


def test_suggestions_include_stored_names_not_bound_yet(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        w.eval("(define (fibonacci n) n)")
    with world.open(tmp_path / "w.fs") as w:
        with pytest.raises(UnboundVariable) as e:
            w.eval("(fibonaci 3)")
    assert "(did you mean fibonacci?)" in str(e.value)     # shown after the world closed


def test_the_repl_shows_the_suggestion(w):
    run = drive(w, FIB, "(fbi 5)\r")
    assert "unbound variable: fbi (did you mean fib?)" in run.text


# ---------------------------------------------------------------- *1 *2 *3 *e

def test_last_values_and_last_error(w):
    run = drive(w, "(+ 1 2)\r", "(* 2 3)\r", "(list 4)\r", "(list *1 *2 *3)\r",
                "(car 5)\r", "(error-object-message *e)\r", "(define x 1)\r", "*1\r")
    out = lines(run.text)
    assert out[3] == "((4) 6 3)"
    assert out[-3] == '"type error: car: expected a pair, got an integer"'
    assert out[-1] == out[-3]                   # a definition pushes nothing


def test_last_values_are_never_definitions_of_the_world(image, tmp_path):
    run = drive(image, "(list 1 2)\r", "(define kept *1)\r", "(set! *1 5)\r", "*1\r",
                "(define ok 1)\r")
    out = lines(run.text)
    assert "REPL-only name: *1 is this session's own" in out[1] and "kept" in out[1]
    assert out[-2] == "(1 2)" and out[-1] == "ok committed"
    assert "kept" not in image.names.defs and "*1" not in image.names.defs
    hist = history_of(image)
    assert hist.latest("*1") is None and hist.latest("kept") is None
    image.close()
    with world.open(tmp_path / "world.fs") as again:
        with pytest.raises(UnboundVariable) as e:
            again.eval("*1")
    assert "exist only in the REPL" in str(e.value)


# ---------------------------------------------------------------- ,time

def test_time_shows_wall_time_and_steps(w):
    run = drive(w, FIB, ",time (fib 15)\r", ",time\r")
    out = lines(run.text)
    assert out[1] == "610"
    m = re.fullmatch(r"; [\d.]+ (ms|s), ([\d,]+) steps", out[2])
    assert m and int(m.group(2).replace(",", "")) == run.repl.spent > 1000
    assert out[3] == "error: ,time: expected a form"


# ---------------------------------------------------------------- ,trace

def test_trace_prints_calls_and_values_by_depth_and_untrace_restores(w):
    w.eval(FIB)
    fib = w.env.lookup(world.read("fib"))
    original = fib.fn
    run = drive(w, ",trace fib\r", "(fib 2)\r", ",untrace fib\r", "(fib 2)\r")
    assert lines(run.text) == ["tracing fib (,untrace stops)",
                               "(fib 2)", "(fib 1)", "=> 1", "(fib 0)", "=> 0", "=> 1", "1",
                               "stopped tracing fib", "1"]
    assert "\n  (fib 1)" in run.text.replace("\r", "")
    assert fib.fn is original and w.env.lookup(world.read("fib")) is fib


def test_trace_survives_errors_and_redefinition(w):
    run = drive(w, "(define (f x) (car x))\r", ",trace f\r", "(f 1)\r", "(f '(7))\r",
                "(define (f x) (cdr x))\r", "(f '(7))\r", ",untrace\r", "(f '(8))\r")
    out = lines(run.text)
    i = out.index("(f 1)")
    assert out[i + 1].startswith("error: ")
    j = out.index("(f (7))")                    # the next call starts at depth 0 again
    assert j > i + 1 and out[j:j + 3] == ["(f (7))", "=> 7", "7"]
    assert "\n(f (7))" in run.text.replace("\r", "")
    assert ["(f (7))", "=> ()", "()"] == out[out.index("f committed", 2) + 1:][:3]
    assert out[-2:] == ["stopped tracing f", "()"]


def test_tracing_is_never_stored(image, tmp_path):
    image.eval(FIB)
    run = drive(image, ",trace fib\r", "(define g fib)\r", "(g 3)\r")
    assert "(fib 3)" in run.text and lines(run.text)[-1] == "2"
    assert type(image.env.lookup(world.read("fib")).fn) is not Traced   # untraced as it ended
    image.close()
    assert b"repl.trace" not in (tmp_path / "world.fs").read_bytes()
    with world.open(tmp_path / "world.fs") as again:
        assert again.eval("(g 10)") == 55
        assert type(again.env.lookup(world.read("g"))) is Closure


def test_a_stored_procedure_traced_in_a_fresh_session_and_a_long_trace_is_cut(image, tmp_path,
                                                                              monkeypatch):
    image.eval(FIB)
    image.close()
    monkeypatch.setattr("repl.trace.MAX_LINES", 6)
    with world.open(tmp_path / "world.fs") as again:       # fib is loaded, not compiled yet
        run = drive(again, ",trace fib\r", "(fib 2)\r", "(fib 10)\r")
    out = lines(run.text)
    assert out[1:8] == ["(fib 2)", "(fib 1)", "=> 1", "(fib 0)", "=> 0", "=> 1", "1"]
    assert out[-2:] == ["; the trace stops after 6 lines (the form runs on)", "55"]


def test_trace_refuses_what_it_cannot_trace(w):
    run = drive(w, ",trace car\r", ",trace nope\r", ",untrace nope\r", ",trace\r")
    assert lines(run.text) == [
        "error: ,trace: car is a primitive: only procedures defined in the world can be traced",
        "error: ,trace: nope is not defined", "error: ,untrace: nope is not traced",
        "tracing nothing"]


# ---------------------------------------------------------------- ,expand

def test_expand_shows_a_macro_expansion(w):
    run = drive(w, "(defmacro my-unless (c . body) (list 'if c #f (cons 'begin body)))\r",
                ",expand (my-unless done (display 1) 2)\r",
                "(define-syntax swap! (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) "
                "(set! b tmp)))))\r", ",expand (swap! x y)\r", ",expand (+ 1 2)\r", ",expand\r")
    out = lines(run.text)
    assert out[1] == "(if done #f (begin (display 1) 2))"
    assert out[3] == "(let ((tmp x)) (set! x y) (set! y tmp))"
    assert out[4] == "(+ 1 2)"
    assert out[5] == "error: ,expand: expected one form"


# ---------------------------------------------------------------- ,doc ,apropos ,who-calls

def test_doc_describes_procedures_primitives_special_forms_and_macros(w):
    run = drive(w, FIB, ",doc fib\r", ",doc car\r", ",doc if\r", ",doc fbi\r")
    out = lines(run.text)
    assert out[1:4] == ["fib  procedure", "(fib n)", "Fibonacci numbers."]
    assert out[4:7] == ["car  primitive", "(car pair)", "the first part of pair."]
    assert out[7:9] == ["if  special form", "(if test then else?)"]
    assert out[9] == "error: ,doc: fbi is not defined (did you mean fib?)"


def test_lookup_entries_are_data(w):
    w.eval('(define (f a . more) "F." a) (define limit 10) (defmacro m (x) x)')
    assert lookup.entry(w, "f") == lookup.Entry("f", "procedure", "(f a . more)", "F.")
    assert lookup.entry(w, "limit").kind == "variable (integer)"
    assert lookup.entry(w, "m").kind == "macro"
    assert lookup.entry(w, "nothing-here") is None


def test_apropos_lists_names_with_kind_and_doc(w):
    run = drive(w, FIB, ",apropos FIB\r", ",apropos zzqq\r")
    out = lines(run.text)
    assert any(re.fullmatch(r"fib +procedure +Fibonacci numbers\.", ln) for ln in out)
    assert out[-1] == "no name contains 'zzqq'"


def test_who_calls_lists_the_definitions_that_mention_a_name(w):
    run = drive(w, FIB, '(define (fib10) "Ten." (fib 10))\r', "(define (other) 1)\r",
                ",who-calls fib\r", ",who-calls other\r")
    out = lines(run.text)
    assert re.fullmatch(r"fib10 +procedure +Ten\.", out[3])
    assert out[4] == "no definition mentions other"


def test_retry_cannot_slip_a_last_value_into_history(w):
    run = drive(w, "(list 1)\r", "(define kept *1)\r", ",retry\r")
    assert lines(run.text)[-1].startswith("error: REPL-only name: *1")
    assert "kept" not in w.names.defs
