"""Probes: no Python escapes. Deep values at commit, the JSON writer, unencodable
output and forged internal calls each end as a value or one clean Lisp error
line (exit status 1 from the CLI), and a refused form leaves the world as it was."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import world
from world.lisp.errors import BudgetExceeded, EvalError, LispError, ReadError, UnboundVariable
from world.lisp.primitives import load
from world.lisp.types import RecordType
from world.objects.storable import STORE_DEPTH

ROOT = Path(__file__).resolve().parents[2]


def nest(n: int, wrap: str = "(list acc)", start: str = "'()") -> str:
    """A Lisp expression for a value nested `n` levels deep."""
    return (f"(let loop ((i 0) (acc {start})) (if (= i {n}) acc "
            f"(loop (+ i 1) {wrap})))")


DAG = "(let loop ((i 0) (x '(1))) (if (= i 60) x (loop (+ i 1) (list x x))))"
SHARED_TAILS = ("(let ((tail (let loop ((i 0) (acc '())) (if (= i 100000) acc "
                "(loop (+ i 1) (cons i acc)))))) (let loop ((i 0) (acc '())) "
                "(if (= i 2000) acc (loop (+ i 1) (cons (cons i tail) acc)))))")


def refused(path: Path, text: str, kind: type = BudgetExceeded) -> LispError:
    """Define x as 1, then evaluate `text`: it must fail with `kind`; x is still 1 after reopening."""
    with world.open(path) as w:
        w.eval("(define x 1)")
        with pytest.raises(kind) as err:
            w.eval(text)
        assert w.eval("x") == 1
    with world.open(path) as w:
        assert w.eval("x") == 1
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    return err.value


def stored(path: Path, expr: str) -> str:
    """Define x as `expr` in an image; return its text as a fresh process reads it back."""
    with world.open(path) as w:
        w.eval(f"(define x {expr})")
        text = world.write(w.eval("x"))
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, world\nw = world.open(sys.argv[1])\n"
         "sys.stdout.write(world.write(w.eval('x')))\nw.close()", str(path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text
    return text


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `world ARGS` in a child process."""
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), **env))


def one_error(proc: subprocess.CompletedProcess) -> str:
    """The process failed with status 1 and exactly one `error:` line, no traceback."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout[:300], proc.stderr[:2000])
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ---------------------------------------------------------------- deep values at commit

def test_a_5000_deep_list_is_stored_and_reloads_identically(tmp_path):
    assert stored(tmp_path / "w.fs", nest(5000)).startswith("(" * 5000)


def test_a_5000_deep_vector_is_stored_and_reloads_identically(tmp_path):
    assert stored(tmp_path / "w.fs", nest(5000, "(vector acc)", "[]")).startswith("[" * 5000)


def test_a_5000_deep_map_is_stored_and_reloads_identically(tmp_path):
    assert stored(tmp_path / "w.fs", nest(5000, "(assoc {} :k acc)", "{}")).count(":k") == 5000


def test_maps_nested_1500_deep_as_keys_store_or_fail_cleanly(tmp_path):
    # Past Python's own recursion limit; each level hashes the whole key below it, so the
    # cost grows with the square of the depth (3000 deep took 20 s of CPU for the same point).
    with world.open(tmp_path / "w.fs") as w:
        try:
            w.eval(f"(define x {nest(1500, '(assoc {} acc 1)', '{}')})")
        except LispError as e:
            assert "\n" not in str(e)


def test_a_value_nested_past_the_store_depth_is_refused_and_x_is_unchanged(tmp_path):
    err = refused(tmp_path / "w.fs", f"(define x {nest(STORE_DEPTH + 10)})")
    assert err.budget == "depth" and "cannot be stored" in err.message


def test_deep_vectors_and_maps_past_the_depth_are_refused(tmp_path):
    refused(tmp_path / "v.fs", f"(define x {nest(STORE_DEPTH + 10, '(vector acc)', '[]')})")
    refused(tmp_path / "m.fs", f"(define x {nest(STORE_DEPTH + 10, '(assoc {} :k acc)', '{}')})")


def test_closures_capturing_closures_store_or_fail_cleanly(tmp_path):
    chain = nest(STORE_DEPTH, "(let ((g acc)) (lambda () g))", "car")
    refused(tmp_path / "w.fs", f"(define x {chain})")


def test_a_chain_of_boxes_deeper_than_the_depth_is_stored(tmp_path):
    # each box is a record of its own: nesting starts again at every box
    with world.open(tmp_path / "w.fs") as w:
        w.eval(f"(define x {nest(STORE_DEPTH + 2000, '(box acc)', '0')})")
    with world.open(tmp_path / "w.fs") as w:
        assert w.eval("(let loop ((b x) (n 0)) (if (box? b) (loop (unbox b) (+ n 1)) n))") \
            == STORE_DEPTH + 2000


def test_deep_records_are_stored_and_reload(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        w.eval("(define-record node val)")
        w.eval(f"(define x {nest(3000, '(make-node acc)', '0')})")
    with world.open(tmp_path / "w.fs") as w:
        assert w.eval("(let loop ((r x) (n 0)) (if (node? r) (loop (node-val r) (+ n 1)) n))") == 3000


def test_set_box_to_a_too_deep_value_is_refused_and_the_box_keeps_its_value(tmp_path):
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        w.eval("(define b (box 7))")
        with pytest.raises(BudgetExceeded):
            w.eval(f"(set-box! b {nest(STORE_DEPTH + 10)})")
        assert w.eval("(unbox b)") == 7
    with world.open(path) as w:
        assert w.eval("(unbox b)") == 7


def test_a_200000_long_list_still_stores(tmp_path):
    text = stored(tmp_path / "w.fs", "(let loop ((i 0) (acc '())) (if (= i 200000) acc "
                                     "(loop (+ i 1) (cons i acc))))")
    assert text.startswith("(199999 199998")


def test_a_shared_dag_stores_once_per_node(tmp_path):
    t = time.monotonic()
    with world.open(tmp_path / "w.fs") as w:
        w.eval(f"(define x {DAG})")
        assert w.eval("(length x)") == 2
    assert time.monotonic() - t < 20


def test_shared_tails_that_would_pickle_quadratically_exhaust_the_steps(tmp_path):
    t = time.monotonic()
    err = refused(tmp_path / "w.fs", f"(define x {SHARED_TAILS})")
    assert err.budget == "steps" and "storing" in err.message
    assert time.monotonic() - t < 30


def test_storing_is_charged_to_the_form(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        w.eval("(define n (let loop ((i 0) (acc '())) (if (= i 1000) acc (loop (+ i 1) (cons i acc)))))")
        plain = w.last.steps
        w.eval("(let loop ((i 0) (acc '())) (if (= i 1000) acc (loop (+ i 1) (cons i acc))))")
        assert plain > w.last.steps            # the define paid for walking what it stored
        with pytest.raises(BudgetExceeded):     # and a budget too small for that walk refuses it
            w.eval("(define m (let loop ((i 0) (acc '())) (if (= i 1000) acc "
                   "(loop (+ i 1) (cons i acc)))))", steps=w.last.steps + 5)
        with pytest.raises(UnboundVariable):
            w.eval("m")


def test_history_still_verifies_after_a_refused_commit(tmp_path):
    with world.open(tmp_path / "w.fs") as w:
        w.eval("(define x 1)")
        with pytest.raises(BudgetExceeded):
            w.eval(f"(define x {nest(STORE_DEPTH + 10)})")
        w.eval("(define y 2)")
        assert w.eval("x") == 1 and w.eval("y") == 2
        w.eval("(history/verify)")


# ---------------------------------------------------------------- the CLI: --json and output

def test_json_of_a_3000_deep_value_is_valid_json(tmp_path):
    proc = cli(tmp_path, "eval", "--memory", "--json", nest(3000))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.strip()
    assert text == "[" * 3001 + "]" * 3001       # 3000 lists around the empty list


def test_json_of_a_2_to_the_60_dag_is_a_clean_budget_error(tmp_path):
    t = time.monotonic()
    line = one_error(cli(tmp_path, "eval", "--memory", "--json", DAG))
    assert "budget exceeded" in line and "step" in line
    assert time.monotonic() - t < 30


def test_json_of_deep_maps_and_improper_lists(tmp_path):
    proc = cli(tmp_path, "eval", "--memory", "--json",
               f"(list (cons 1 2) {nest(2000, '(assoc {} :k acc)', '{}')} (expt 10 5000))")
    assert proc.returncode == 0, proc.stderr
    head = proc.stdout[:60]
    assert head.startswith('[{"list": [1], "tail": 2}, {"k": {"k": ')
    assert proc.stdout.rstrip().endswith("0" * 50 + "]")


def test_a_lone_surrogate_in_a_string_is_a_read_error(tmp_path):
    line = one_error(cli(tmp_path, "eval", "--memory", '(display "\\xD800;")'))
    assert "read error" in line


def test_a_surrogate_escaped_argument_is_a_read_error(tmp_path):
    # argv bytes that are not UTF-8 reach Python as lone surrogates
    proc = subprocess.run([sys.executable.encode(), b"-m", b"repl.cli", b"eval", b"--memory",
                           b'(display "\xff")'], capture_output=True, timeout=120, cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    assert proc.stderr.startswith(b"error: ") and b"read error" in proc.stderr


def test_output_the_terminal_cannot_encode_is_escaped_not_an_error(tmp_path):
    proc = cli(tmp_path, "eval", "--memory", '(display "caf\\xe9; \\x263A;") (newline) "\\xe9;"',
               PYTHONIOENCODING="ascii")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["caf\\xe9 \\u263a", '"\\xe9"']


def test_json_for_an_ascii_terminal_is_valid_json(tmp_path):
    proc = cli(tmp_path, "eval", "--memory", "--json", '(list "\\xe9;" (quote |\\x263A;|) #\\x3bb)',
               PYTHONIOENCODING="ascii")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["\xe9", "\u263a", "#\\\u03bb"]


def test_an_error_message_the_terminal_cannot_encode_is_one_line(tmp_path):
    line = one_error(cli(tmp_path, "eval", "--memory", '(error "na\\xef;ve \\x1F600;")',
                         PYTHONIOENCODING="ascii"))
    assert "na\\xefve" in line


def test_a_refused_commit_from_the_cli_is_one_line_and_keeps_the_image(tmp_path):
    assert cli(tmp_path, "eval", "--world", "w.fs", "(define x 1)").returncode == 0
    line = one_error(cli(tmp_path, "eval", "--world", "w.fs", f"(define x {nest(STORE_DEPTH + 10)})"))
    assert "cannot be stored" in line
    proc = cli(tmp_path, "eval", "--world", "w.fs", "x")
    assert proc.returncode == 0 and proc.stdout == "1\n"


# ---------------------------------------------------------------- characters and forged objects

@pytest.mark.parametrize("text", ['"\\xD800;"', '"a\\xDFFF;b"', "#\\xD800", "#\\xDBFF",
                                  "'|\\xDC00;|", ":|\\xD800;|", "\"\ud800\"", "x\udcff"])
def test_the_reader_refuses_surrogates(text):
    with world.open() as w:
        with pytest.raises(ReadError) as err:
            w.eval(text)
        assert "\n" not in str(err.value)


def test_integer_to_char_refuses_a_surrogate():
    with world.open() as w:
        with pytest.raises(EvalError):
            w.eval("(integer->char 55296)")
        assert w.eval("(char->integer (integer->char 55295))") == 55295


def test_record_internals_are_not_reachable_from_lisp():
    with world.open() as w:
        with pytest.raises(UnboundVariable):
            w.eval("(%record-make 1 2 3)")


@pytest.mark.parametrize("name,args", [
    ("%record-make", (1, 2, 3)), ("%record-make", (RecordType("p", ("a",)), 1, 2)),
    ("%record?", ("p", 1)), ("%record-ref", (RecordType("p", ("a",)), 1, 5)),
    ("%record-ref", (None, None, None)), ("%record-set!", (RecordType("p", ("a",)), 1, True, 4)),
])
def test_forged_record_internals_are_type_errors(name, args):
    with pytest.raises(LispError):
        load()[name].fn(*args)
