"""The watchdog: wall time, Ctrl-C and process memory stop an evaluation inside any primitive.

Probes with primitives that loop or allocate in Python without ever charging a
step (registered by these tests only), hostile memory programs run through
`world eval` with their peak resident size measured, and the lifetime of what
an evaluation interns and compiles.
"""
from __future__ import annotations

import contextlib
import gc
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from world.lisp import compiler, runtime, watchdog
from world.lisp.budget import Limits
from world.lisp.env import Environment
from world.lisp.errors import BudgetExceeded, Interrupted, LispError
from world.lisp.primitives import GROUPS, load
from world.lisp.printer import write
from world.lisp.reader import read
from world.lisp.types import Primitive, Symbol

ROOT = Path(__file__).resolve().parents[2]
PEAK = 1.5 * 2 ** 30            # bytes: the bound on any hostile program's peak RSS


# ---------------------------------------------------------------- test-only primitives

def spin() -> None:
    """Loop in Python forever, never charging a step."""
    while True:
        pass


def spin_for(seconds: Any) -> int:
    """Loop in Python for `seconds`, never charging a step."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


class Sentinel:
    """Something the hog holds, to see whether its garbage was let go."""


HOGGED: list[Any] = []


def hog() -> None:
    """Grow the process without accounting a byte (2 MB at a time, a little slowly)."""
    chunks: list[Any] = [Sentinel()]
    import weakref
    HOGGED.append(weakref.ref(chunks[0]))
    while True:
        chunks.append(b"\x01" * (2 << 20))
        time.sleep(0.001)


TEST_PRIMS = {"spin": spin, "spin-for": spin_for, "hog": hog}


def env_with_test_primitives() -> Environment:
    """A `core` environment that also binds the test primitives."""
    e = Environment(caps=["core"])
    for name, fn in TEST_PRIMS.items():
        e.define(Symbol(name), Primitive(name, fn))
    return e


@pytest.fixture
def env() -> Environment:
    return env_with_test_primitives()


@contextlib.contextmanager
def granted_in_core() -> Iterator[None]:
    """The test primitives in the `core` group for the length of one test (sandboxes build
    their environments from the groups)."""
    prims = load()
    core = GROUPS["core"]
    for name, fn in TEST_PRIMS.items():
        prims[name] = Primitive(name, fn)
        core.add(name)
    try:
        yield
    finally:
        for name in TEST_PRIMS:
            core.discard(name)
            prims.pop(name, None)


def outcome(env: Environment, text: str, limits: Limits,
            show: Callable[[Any], str] | None = None, out: list[str] | None = None) -> tuple[Any, float]:
    """The value (or the Lisp error) of `text`, and the seconds it took."""
    t = time.monotonic()
    try:
        r = runtime.run(env, read(text), limits, show=show, out=out)
        got: Any = r.value if show is None else r.text
    except LispError as e:
        got = e
    return got, time.monotonic() - t


def stopped_by(got: Any, kind: str) -> None:
    assert isinstance(got, BudgetExceeded), got
    assert got.budget == kind, got
    assert "\n" not in str(got)


# ---------------------------------------------------------------- wall time

def test_deadline_stops_a_primitive_looping_in_python(env: Environment) -> None:
    got, took = outcome(env, "(spin)", Limits(seconds=0.5))
    stopped_by(got, "time")
    assert "time budget of 0.5 s" in str(got)
    assert took < 1.5, took


def test_guard_cannot_catch_the_watchdog(env: Environment) -> None:
    got, took = outcome(env, "(guard (e (#t 'caught)) (spin))", Limits(seconds=0.3))
    stopped_by(got, "time")
    assert took < 1.5, took


def test_guard_that_loops_after_the_stop_is_stopped_again(env: Environment) -> None:
    text = "(guard (e (#t (spin))) (spin))"
    got, took = outcome(env, text, Limits(seconds=0.3))
    stopped_by(got, "time")
    assert took < 1.5, took


def test_deadline_inside_a_nested_evaluation(env: Environment) -> None:
    """A nested run with a shorter deadline is stopped; its caller goes on."""
    inner = Environment(caps=["core"])
    inner.define(Symbol("spin"), Primitive("spin", spin))

    def nest() -> Any:
        try:
            runtime.run(inner, read("(spin)"), Limits(seconds=0.3))
        except BudgetExceeded as e:
            return e.budget
        return "finished"

    env.define(Symbol("nest"), Primitive("nest", nest))
    got, took = outcome(env, "(list (nest) (+ 1 2))", Limits(seconds=10.0), show=write)
    assert got == '("time" 3)', got
    assert took < 2.0, took


def test_sandbox_deadline_is_catchable_by_its_caller(env: Environment) -> None:
    with granted_in_core():
        kid = Environment(caps=["core", "eval"])
        text = "(guard (e (#t 'inner-stopped)) (sandbox '(spin) :seconds 0.3))"
        got, took = outcome(kid, text, Limits(seconds=10.0))
    assert got is Symbol("inner-stopped"), got
    assert took < 2.0, took


def test_callers_deadline_inside_a_sandbox_stops_the_caller(env: Environment) -> None:
    with granted_in_core():
        kid = Environment(caps=["core", "eval"])
        text = "(guard (e (#t 'caught)) (sandbox '(spin) :seconds 30))"
        got, took = outcome(kid, text, Limits(seconds=0.4))
    stopped_by(got, "time")
    assert took < 2.0, took


def test_no_stop_after_the_evaluation_finished(env: Environment) -> None:
    """200 quick evaluations under a tiny deadline: the watchdog never fires late."""
    for i in range(200):
        got, _ = outcome(env, f"(+ {i} 1)", Limits(seconds=0.05))
        assert got == i + 1, (i, got)


def test_stops_racing_the_end_of_an_evaluation_never_leak(env: Environment) -> None:
    """Evaluations that end right around their deadline stop cleanly or finish; the next
    evaluation never receives a stop meant for the one before."""
    rng = random.Random(11)
    for _ in range(20):
        # The watchdog fires between 0.1 s (deadline and grace) and 0.125 s (next look).
        got, _ = outcome(env, f"(spin-for {rng.uniform(0.08, 0.14):.3f})", Limits(seconds=0.05))
        assert isinstance(got, int) or (isinstance(got, BudgetExceeded) and got.budget == "time"), got
        got, _ = outcome(env, "(spin-for 0.001)", Limits(seconds=5.0))
        assert isinstance(got, int), got
    time.sleep(0.3)
    assert outcome(env, "(+ 1 2)", Limits())[0] == 3


def test_printing_the_value_is_within_the_forms_deadline(env: Environment) -> None:
    dag = "(let loop ((n 0) (d '(1))) (if (= n 60) d (loop (+ n 1) (list d d))))"
    got, took = outcome(env, dag, Limits(steps=10 ** 12, seconds=0.5), show=write)
    assert isinstance(got, BudgetExceeded) and got.budget in ("time", "steps"), got
    assert took < 2.0, took


def test_equal_on_a_shared_structure_is_within_the_deadline(env: Environment) -> None:
    text = ("(let ((a (let loop ((n 0) (d '(1))) (if (= n 60) d (loop (+ n 1) (list d d)))))"
            "      (b (let loop ((n 0) (d '(1))) (if (= n 60) d (loop (+ n 1) (list d d))))))"
            "  (equal? a b))")
    got, took = outcome(env, text, Limits(steps=10 ** 12, seconds=0.5))
    assert isinstance(got, BudgetExceeded) and got.budget in ("time", "steps"), got
    assert took < 2.0, took


def test_a_shielded_block_finishes_before_the_stop_lands(env: Environment) -> None:
    done: list[bool] = []

    def bookkeeping() -> None:
        with watchdog.shielded():
            spin_for(0.4)
            done.append(True)
        spin()

    env.define(Symbol("bookkeeping"), Primitive("bookkeeping", bookkeeping))
    got, took = outcome(env, "(bookkeeping)", Limits(seconds=0.1))
    stopped_by(got, "time")
    assert done == [True]
    assert took < 1.5, took


# ---------------------------------------------------------------- Ctrl-C

def test_interrupt_from_another_thread_stops_a_primitive(env: Environment) -> None:
    timer = threading.Timer(0.3, runtime.interrupt)
    timer.start()
    try:
        got, took = outcome(env, "(spin)", Limits(seconds=30.0))
    finally:
        timer.cancel()
    assert isinstance(got, Interrupted), got
    assert took < 1.3, took


def test_sigint_to_the_process_stops_a_primitive(env: Environment) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGINT reaches only the main thread")
    # Python's own handler (raise KeyboardInterrupt), whatever an earlier test installed.
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        got, took = outcome(env, "(spin)", Limits(seconds=30.0))
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    assert isinstance(got, Interrupted), got
    assert took < 1.3, took


def test_interrupt_inside_a_sandbox_stops_the_caller(env: Environment) -> None:
    with granted_in_core():
        kid = Environment(caps=["core", "eval"])
        timer = threading.Timer(0.3, runtime.interrupt)
        timer.start()
        try:
            got, took = outcome(kid, "(guard (e (#t 'caught)) (sandbox '(spin)))",
                                Limits(seconds=30.0))
        finally:
            timer.cancel()
    assert isinstance(got, Interrupted), got
    assert took < 1.3, took


# ---------------------------------------------------------------- memory backstop

def test_backstop_stops_unaccounted_growth_and_lets_go(env: Environment) -> None:
    HOGGED.clear()
    got, took = outcome(env, "(hog)", Limits(memory=32 << 20, seconds=30.0))
    stopped_by(got, "memory")
    assert "process memory" in str(got)
    assert took < 10.0, took
    gc.collect()
    assert HOGGED and HOGGED[0]() is None, "the stopped program's garbage is still held"


def test_backstop_inside_a_sandbox_fails_the_sandbox_and_lets_go(env: Environment) -> None:
    """The child that grew the process fails as its memory limit would; its caller goes on."""
    HOGGED.clear()
    with granted_in_core():
        kid = Environment(caps=["core", "eval"])
        text = ("(guard (e (#t (error-object-message e))) "
                "  (sandbox '(hog) :memory 1000000))")
        got, _ = outcome(kid, text, Limits(memory=32 << 20, seconds=30.0))
    assert isinstance(got, str) and "process memory" in got, got
    gc.collect()
    assert HOGGED and HOGGED[0]() is None, "the stopped sandbox's garbage is still held"


# A child's own peak RSS. Not ru_maxrss: Linux folds into it the RSS of the process it was
# forked from (at exec), so a test process grown large in a long run would fail every bound.
# VmHWM is the high-water mark of the child's own memory after exec, read as it exits.
PEAK_PRELUDE = """
import atexit, os
def _peak():
    with open("/proc/self/status") as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    with open(os.environ["WORLD_TEST_PEAK_FILE"], "w") as f:
        f.write(str(kb * 1024))
atexit.register(_peak)
"""
CLI = PEAK_PRELUDE + "import runpy, sys\nrunpy.run_module('repl.cli', run_name='__main__')\n"


def own_peak(path: Path, usage: Any) -> int:
    """The child's peak RSS in bytes as it wrote it (else, if it died first, ru_maxrss)."""
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return usage.ru_maxrss * 1024


def cli_peak(tmp_path: Path, *args: str, timeout: float = 120.0) -> tuple[int, str, str, int]:
    """Run `world ARGS` in `tmp_path`: exit status, stdout, stderr, peak RSS in bytes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORLD_TEST_PEAK_FILE=str(tmp_path / "peak"))
    env.pop("WORLD_IMAGE", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", CLI, *args], cwd=tmp_path,
                                env=env, stdout=out, stderr=err)
        end = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > end:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(), err.read().decode(),
                own_peak(tmp_path / "peak", usage))


HOSTILE_MEMORY = {
    "string-doubling": '(define (grow x) (grow (string-append x x))) (grow "ab")',
    "bignum-squaring": "(define (sq x) (sq (* x x))) (sq 3)",
    "make-list": "(length (make-list 10000000 1))",
    "vectors": "(let loop ((acc '())) (loop (cons (make-vector 100000 0) acc)))",
    "symbols": ("(let ((big (make-string 1000000 #\\a))) (let loop ((i 0) (acc '())) "
                "(loop (+ i 1) (cons (string->symbol (string-append big (number->string i))) acc))))"),
    "map": "(let loop ((i 0) (m {})) (loop (+ i 1) (assoc m i (make-vector 100000 i))))",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_MEMORY))
def test_hostile_memory_program_is_one_error_under_the_peak(tmp_path: Path, name: str) -> None:
    # A step budget large enough that memory, not steps, is what runs out.
    status, out, err, peak = cli_peak(tmp_path, "eval", "--memory", "--steps", str(10 ** 9),
                                      HOSTILE_MEMORY[name])
    assert status == 1, (status, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert sum(line.startswith("error:") for line in lines) == 1, err
    assert "budget exceeded" in lines[0], err
    assert peak < PEAK, f"peak RSS {peak >> 20} MB"


HOG_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from test_probe_watchdog import env_with_test_primitives
from world.lisp import runtime
from world.lisp.errors import LispError
from world.lisp.reader import read
try:
    runtime.run(env_with_test_primitives(), read("(hog)"))
except LispError as e:
    print(e)
"""


def test_backstop_under_default_limits_keeps_the_peak(tmp_path: Path) -> None:
    """Growth no primitive accounts for is stopped by the backstop, well under the peak."""
    script = tmp_path / "hog.py"
    script.write_text(PEAK_PRELUDE + HOG_SCRIPT.format(tests=str(Path(__file__).parent)))
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORLD_TEST_PEAK_FILE=str(tmp_path / "peak"))
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    assert proc.returncode == 0, text
    assert "budget exceeded: process memory" in text, text
    peak = own_peak(tmp_path / "peak", usage)
    assert peak < PEAK, f"peak RSS {peak >> 20} MB"


def test_value_too_costly_to_print_is_the_forms_error(tmp_path: Path) -> None:
    dag = "(let loop ((n 0) (d '(1))) (if (= n 60) d (loop (+ n 1) (list d d))))"
    for flags in ((), ("--json",)):
        status, out, err, _ = cli_peak(tmp_path, "eval", "--memory", *flags, "--steps", "100000", dag,
                                       timeout=60)
        assert status == 1, (flags, status, err)
        assert err.startswith("error: <eval>:1:1: budget exceeded"), err
        assert out == ""


# ---------------------------------------------------------------- what an evaluation leaves

def test_symbols_made_by_an_evaluation_do_not_outlive_it(env: Environment) -> None:
    outcome(env, '(string->symbol "zq-transient-symbol")', Limits())
    outcome(env, '(define kept (string->symbol "zq-kept-symbol"))', Limits())
    gc.collect()
    assert "zq-transient-symbol" not in Symbol.table
    assert "zq-kept-symbol" in Symbol.table


def test_making_symbols_is_charged_to_memory(env: Environment) -> None:
    text = "(let loop ((i 0)) (string->symbol (number->string i)) (loop (+ i 1)))"
    got, took = outcome(env, text, Limits(memory=2 << 20, seconds=20.0))
    stopped_by(got, "memory")


def test_line_maps_of_finished_forms_are_dropped(env: Environment) -> None:
    gc.collect()
    before = len(compiler.LINEMAPS)
    for i in range(200):
        outcome(env, f"(+ {i} (let ((f (lambda (x) (* x 2)))) (f {i})))", Limits())
    outcome(env, "(define (keeper x) (car x))", Limits())
    gc.collect()
    assert len(compiler.LINEMAPS) - before < 5
    got, _ = outcome(env, "(keeper 1)", Limits())
    assert isinstance(got, LispError) and got.backtrace[0][0] == "keeper", got


def test_compiled_code_is_charged_to_memory(env: Environment) -> None:
    env_eval = Environment(caps=["core", "eval"])
    text = "(eval (cons 'begin (make-list 20000 '(list 1 2 3))))"
    got, _ = outcome(env_eval, text, Limits(memory=3 << 20, steps=10 ** 9, seconds=30.0))
    stopped_by(got, "memory")


def test_stop_class_is_invisible_to_except_exception() -> None:
    assert not issubclass(watchdog.Stop, Exception)
    assert not issubclass(watchdog.Stop, runtime.CATCHABLE)
