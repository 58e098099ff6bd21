"""Pausing tests: a computation paused at step K, serialized, and resumed in a
fresh process ends with the same value, total steps and output (none of it
repeated) as an uninterrupted run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from world.lisp import runtime
from world.lisp.env import Environment
from world.lisp.primitives import OWNER
from world.lisp.printer import write
from world.lisp.reader import read

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
(define (sum n)
  (when (= (remainder n 5000) 0) (display (string-append (number->string n) " ")))
  (if (= n 0) 0 (+ n (sum (- n 1)))))
(display "start ")
(define total (sum 20000))
(display total)
(newline)
(let loop ((i 0)) (when (< i 5) (display i) (loop (+ i 1))))
(+ total (sum 100))
"""

RESUME = """
import json, sys
from world.lisp import runtime
from world.lisp.printer import write
with open(sys.argv[1], "rb") as f:
    susp = runtime.Suspension.from_bytes(f.read())
r = runtime.resume(susp)
print(json.dumps([write(r.value), r.steps, r.output]))
"""


def full_run(text: str = PROGRAM, setup: str = "") -> runtime.Result:
    """The uninterrupted run, through the same entry point."""
    env = Environment(OWNER)
    if setup:
        runtime.run(env, read(setup))
    result, susp = runtime.start(env, text, pause_at=10**12)
    assert susp is None
    return result


def paused(k: int, text: str = PROGRAM, setup: str = "") -> runtime.Suspension:
    env = Environment(OWNER)
    if setup:
        runtime.run(env, read(setup))
    result, susp = runtime.start(env, text, pause_at=k)
    assert result is None and susp is not None
    return susp


def resume_elsewhere(susp: runtime.Suspension, tmp_path: Path) -> tuple[str, int, str]:
    """Resume `susp` in a fresh Python process; return (value text, steps, output)."""
    path = tmp_path / "suspension.bin"
    path.write_bytes(susp.to_bytes())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", RESUME, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    value, steps, output = json.loads(proc.stdout)
    return value, steps, output


@pytest.fixture(scope="module")
def full() -> runtime.Result:
    return full_run()


def test_uninterrupted_run(full: runtime.Result) -> None:
    assert full.value == 200010000 + 5050
    assert full.output == "start 20000 15000 10000 5000 0 200010000\n012340 "
    assert full.steps > 20000


# Fractions of the whole run at which to pause: the first steps, inside the deep
# recursion, after the recursion, and the very last step.
FRACTIONS = [0.001, 0.25, 0.5, 0.9, 0.999]


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_resume_in_a_fresh_process(full: runtime.Result, fraction: float, tmp_path: Path) -> None:
    k = max(1, int(full.steps * fraction))
    susp = paused(k)
    assert susp.step == k
    assert full.output.startswith(full.output[:susp.delivered])
    value, steps, output = resume_elsewhere(susp, tmp_path)
    assert value == write(full.value)
    assert steps == full.steps
    assert output == full.output[susp.delivered:]
    assert full.output[:susp.delivered] + output == full.output


def test_pause_inside_the_recursion_has_delivered_output(full: runtime.Result) -> None:
    susp = paused(int(full.steps * 0.5))
    assert 0 < susp.delivered < len(full.output)
    assert full.output[:susp.delivered].startswith("start 20000 ")


def test_resume_in_the_same_process(full: runtime.Result) -> None:
    susp = runtime.Suspension.from_bytes(paused(full.steps // 3).to_bytes())
    r = runtime.resume(susp)
    assert (r.value, r.steps) == (full.value, full.steps)
    assert full.output[:susp.delivered] + r.output == full.output


def test_no_pause_past_the_end(full: runtime.Result) -> None:
    result, susp = runtime.start(Environment(OWNER), PROGRAM, pause_at=full.steps + 1)
    assert susp is None
    assert (result.value, result.steps, result.output) == (full.value, full.steps, full.output)


def test_resume_with_definitions_made_before_the_pause(tmp_path: Path) -> None:
    """Closures defined before `start` travel in the snapshot to the new process."""
    setup = "(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1)))))"
    text = '(display "go ") (define total (sum 20000)) (display total) (+ total 1)'
    whole = full_run(text, setup)
    susp = paused(whole.steps // 2, text, setup)
    value, steps, output = resume_elsewhere(susp, tmp_path)
    assert (value, steps) == (write(whole.value), whole.steps)
    assert value == "200010001"
    assert whole.output[:susp.delivered] + output == whole.output == "go 200010000"


def test_suspension_bytes_are_stable(full: runtime.Result) -> None:
    """Serializing twice gives the same bytes; loading them gives the same step and text."""
    susp = paused(full.steps // 2)
    data = susp.to_bytes()
    again = runtime.Suspension.from_bytes(data)
    assert (again.step, again.text, again.delivered) == (susp.step, susp.text, susp.delivered)
    assert again.to_bytes() == data
