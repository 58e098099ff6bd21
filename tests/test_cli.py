"""Command-line tests: `python -m repl.cli` run as a real process in a scratch directory.

A value goes to stdout and the exit status is 0; a user's mistake is exactly
one `error:` line (with a location) first on stderr, exit status 1, and never
a Python traceback.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCATION = re.compile(r":\d+:\d+: ")


def bug(reason: str) -> pytest.MarkDecorator:
    """Mark a case that fails because of a known bug."""
    return pytest.mark.xfail(reason="BUG: " + reason, strict=True)


def world_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the `world` command with `args` in `tmp_path`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WORLD_IMAGE", None)
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_clean_error(proc: subprocess.CompletedProcess, status: int = 1) -> str:
    """The process failed with one `error:` line first on stderr; return that line."""
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), proc.stderr
    assert sum(line.startswith("error:") for line in lines) == 1, proc.stderr
    return lines[0]


# ---------------------------------------------------------------- eval

VALUES = [
    ("(+ 1 2)", "3"),
    ("(define (sq x) (* x x)) (sq 12)", "144"),
    ("'(1 \"a\" #\\b)", '(1 "a" #\\b)'),
    ("(expt 2 100)", "1267650600228229401496703205376"),
    ("{:a [1 2]}", "{:a [1 2]}"),
]


@pytest.mark.parametrize("source, printed", VALUES)
def test_eval_prints_the_value(tmp_path: Path, source: str, printed: str) -> None:
    proc = world_cli(tmp_path, "eval", source)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == printed + "\n"
    assert proc.stderr == ""


def test_eval_display_output_comes_first(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval", '(display "hi") (newline) 42')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hi\n42\n"


# ---------------------------------------------------------------- errors

ERRORS = [
    # (source, text the error line must contain)
    ("(car 5)", "car"),
    ("(+ 1 \"a\")", "type error"),
    ("(undefined-fn 1)", "unbound variable"),
    ("(error \"boom\" 1)", "boom 1"),
    ("(let ((1 2)) 3)", "syntax error"),
    ("(+ 1", "incomplete"),
    ("(f 1 2", "incomplete"),
    ("(define (f x)\n  (vector-ref x 0))\n(f 5)", "vector-ref"),
    ("(raise 'oops)", "oops"),
]


@pytest.mark.parametrize("source, text", ERRORS)
def test_eval_error_is_one_line_with_a_location(tmp_path: Path, source: str, text: str) -> None:
    proc = world_cli(tmp_path, "eval", source)
    line = assert_clean_error(proc)
    assert text in line
    assert LOCATION.search(line), line
    assert proc.stdout == ""


def test_eval_error_location_is_the_failing_form(tmp_path: Path) -> None:
    line = assert_clean_error(world_cli(tmp_path, "eval", "(define (f x)\n  (vector-ref x 0))\n(f 5)"))
    assert line.startswith("error: <eval>:2:3: "), line


def test_eval_error_backtrace_follows(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval", "(define (g x)\n  (+ 1 (vector-ref x 0)))\n"
                                       "(define (f x)\n  (+ 1 (g x)))\n(f 5)")
    assert_clean_error(proc)
    rest = proc.stderr.splitlines()[1:]
    assert [line.split()[1] for line in rest[:2]] == ["g", "f"], proc.stderr


def test_output_before_an_error_is_kept(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval", '(display "partial") (car 5)')
    assert_clean_error(proc)
    assert proc.stdout == "partial"


def test_unbound_symbol_error_has_a_location(tmp_path: Path) -> None:
    line = assert_clean_error(world_cli(tmp_path, "eval", "nope"))
    assert LOCATION.search(line), line


# ---------------------------------------------------------------- run

def test_run_prints_display_output(tmp_path: Path) -> None:
    (tmp_path / "prog.lisp").write_text(
        '(define (greet name) (string-append "hello, " name))\n'
        '(display (greet "world"))\n(newline)\n(display (+ 1 2))\n(+ 40 2)\n')
    proc = world_cli(tmp_path, "run", "prog.lisp")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello, world\n3"
    assert proc.stderr == ""


def test_run_error_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.lisp").write_text('(display "one")\n(newline)\n(car 5)\n(display "never")\n')
    proc = world_cli(tmp_path, "run", "bad.lisp")
    line = assert_clean_error(proc)
    assert line.startswith("error: bad.lisp:3:1: "), line
    assert proc.stdout == "one\n"


def test_run_read_error(tmp_path: Path) -> None:
    (tmp_path / "open.lisp").write_text('(display "x")\n(define (f x)\n  (+ x 1)\n')
    line = assert_clean_error(world_cli(tmp_path, "run", "open.lisp"))
    assert "open.lisp:" in line


def test_run_missing_file(tmp_path: Path) -> None:
    line = assert_clean_error(world_cli(tmp_path, "run", "no-such-file.lisp"))
    assert "no-such-file.lisp" in line


def test_run_missing_file_message_is_not_doubled(tmp_path: Path) -> None:
    line = assert_clean_error(world_cli(tmp_path, "run", "no-such-file.lisp"))
    assert not line.startswith("error: error:"), line


# ---------------------------------------------------------------- budgets

def test_steps_option_stops_an_infinite_loop(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval", "--steps", "100", "(let loop () (loop))")
    line = assert_clean_error(proc)
    assert "budget" in line and "step" in line
    assert "100" in line


def test_steps_option_on_run(tmp_path: Path) -> None:
    (tmp_path / "loop.lisp").write_text("(define (spin) (spin))\n(spin)\n")
    line = assert_clean_error(world_cli(tmp_path, "run", "--steps", "1000", "loop.lisp"))
    assert "budget" in line


def test_steps_option_allows_enough(tmp_path: Path) -> None:
    # 11 steps to compute the value, 1 to print it (printing is part of the form's budget)
    proc = world_cli(tmp_path, "eval", "--steps", "12",
                     "(let loop ((i 0)) (if (= i 10) i (loop (+ i 1))))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "10\n"


def test_deep_recursion_is_a_clean_error(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval",
                     "(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1))))) (sum 1000000)")
    line = assert_clean_error(proc)
    assert "recursion" in line or "depth" in line
    assert len(proc.stderr.splitlines()) <= 12


def test_bad_usage_exits_nonzero(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_steps_below_one_is_a_usage_error(tmp_path: Path) -> None:
    line = assert_clean_error(world_cli(tmp_path, "eval", "--steps", "0", "1"), status=2)
    assert "--steps" in line


# ---------------------------------------------------------------- the image

def test_definitions_persist_across_eval_calls(tmp_path: Path) -> None:
    assert world_cli(tmp_path, "eval", "(define (sq x) \"Square.\" (* x x))").returncode == 0
    assert (tmp_path / "images" / "world.fs").is_file()
    proc = world_cli(tmp_path, "eval", "(sq 12)")
    assert (proc.returncode, proc.stdout) == (0, "144\n"), proc.stderr
    proc = world_cli(tmp_path, "eval", "(define counter (box 0))")
    for expected in ("1", "2", "3"):
        proc = world_cli(tmp_path, "eval", "(set-box! counter (+ (unbox counter) 1)) (unbox counter)")
        assert proc.stdout == expected + "\n", proc.stderr


def test_a_failing_form_changes_nothing_in_the_image(tmp_path: Path) -> None:
    world_cli(tmp_path, "eval", "(define x 1)")
    assert_clean_error(world_cli(tmp_path, "eval", "(define x 2) (car 5)"))
    assert world_cli(tmp_path, "eval", "x").stdout == "2\n"     # each form is its own transaction
    assert_clean_error(world_cli(tmp_path, "eval", "(let () (set! x 3) (car 5))"))
    assert world_cli(tmp_path, "eval", "x").stdout == "2\n"


def test_run_uses_the_same_image(tmp_path: Path) -> None:
    (tmp_path / "lib.lisp").write_text("(define (greet n) (string-append \"hi \" n))\n")
    assert world_cli(tmp_path, "run", "lib.lisp").returncode == 0
    assert world_cli(tmp_path, "eval", '(greet "you")').stdout == '"hi you"\n'


def test_world_flag_and_environment_variable_choose_the_image(tmp_path: Path) -> None:
    assert world_cli(tmp_path, "eval", "--world", "a.fs", "(define where 'a)").returncode == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORLD_IMAGE=str(tmp_path / "b.fs"))
    proc = subprocess.run([sys.executable, "-m", "repl.cli", "eval", "(define where 'b)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "images").exists()
    assert world_cli(tmp_path, "eval", "--world", "a.fs", "where").stdout == "a\n"
    assert world_cli(tmp_path, "eval", "--world", "b.fs", "where").stdout == "b\n"


def test_memory_world_is_not_saved(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval", "--memory", "(define gone 1) gone")
    assert proc.stdout == "1\n", proc.stderr
    assert not (tmp_path / "images").exists()
    assert "unbound variable" in assert_clean_error(world_cli(tmp_path, "eval", "--memory", "gone"))


def test_world_alone_runs_the_repl_on_the_default_image(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WORLD_IMAGE", None)
    proc = subprocess.run([sys.executable, "-m", "repl.cli"], input="(define kept 99)\n(* kept 2)\n",
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "198" in proc.stdout
    assert world_cli(tmp_path, "eval", "kept").stdout == "99\n"


def test_json_output(tmp_path: Path) -> None:
    proc = world_cli(tmp_path, "eval", "--json", "{:a [1 2.5] :b (list \"x\" 'y #t '())}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"a": [1, 2.5], "b": ["x", "y", True, []]}


def test_world_alone_takes_the_image_flags(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "repl.cli", "--world", "mine.fs"],
                          input="(define here 'mine)\n", cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert world_cli(tmp_path, "eval", "--world", "mine.fs", "here").stdout == "mine\n"
    assert not (tmp_path / "images").exists()


def test_ctrl_c_stops_an_evaluation_with_status_130(tmp_path: Path) -> None:
    import signal
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    (tmp_path / "spin.lisp").write_text('(define before 1) (display "ready") (newline) (let loop () (loop))')
    proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "run", "--steps", str(10**15),
                             "spin.lisp"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout.readline() == "ready\n"        # the loop is running now
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert err.startswith("error: ") and "interrupted" in err.splitlines()[0]
    assert world_cli(tmp_path, "eval", "before").stdout == "1\n"    # committed forms stay


# ---------------------------------------------------------------- the registry

def test_registered_modules_add_subcommands_and_missing_ones_are_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from repl import cli
    (tmp_path / "cli_extra_for_test.py").write_text(
        "from repl.cli_common import CommandError, add_json_arg, add_world_args, open_world, print_value\n"
        "def register(sub):\n"
        "    p = sub.add_parser('twice', help='evaluate twice')\n"
        "    p.add_argument('expr')\n"
        "    add_world_args(p)\n"
        "    add_json_arg(p)\n"
        "    p.set_defaults(func=run)\n"
        "def run(args):\n"
        "    if args.expr == 'bad':\n"
        "        raise CommandError('bad is bad: give another')\n"
        "    with open_world(args) as w:\n"
        "        print_value(args, [w.eval(args.expr), w.eval(args.expr)])\n"
        "    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "COMMANDS", ("repl.cli_not_written_yet", "cli_extra_for_test"))
    assert cli.main(["twice", "--memory", "--json", "(+ 1 2)"]) == 0
    assert capsys.readouterr().out == "[3, 3]\n"
    assert cli.main(["twice", "--memory", "bad"]) == 1
    assert capsys.readouterr().err == "error: bad is bad: give another\n"
    assert cli.main(["eval", "--memory", "(+ 2 2)"]) == 0      # the built-in commands are still there
    assert capsys.readouterr().out == "4\n"


def test_eval_does_not_load_the_terminal_libraries() -> None:
    # Start-up time of `world eval` is mostly imports: the REPL's libraries stay out of it.
    code = ("import sys; from repl import cli; cli.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prompt_toolkit', 'anthropic', 'matplotlib')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
