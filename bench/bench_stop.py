"""Stop latency: from Ctrl-C, and from the deadline, to the stop of a running evaluation.

    python bench/bench_stop.py [--quick]

Inside a primitive that loops in Python and never charges a step, only the
watchdog can stop the evaluation; inside a Lisp loop the step counter's own
check usually gets there first. Each figure is the median (and the worst) of
several runs, in milliseconds, measured from the moment of the interrupt (a
timer thread calling `runtime.interrupt()`, or sending SIGINT to the process)
or of the deadline to the moment the error reaches the caller.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import threading
import time
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from world.lisp import runtime  # noqa: E402
from world.lisp.budget import Limits  # noqa: E402
from world.lisp.env import Environment  # noqa: E402
from world.lisp.errors import BudgetExceeded  # noqa: E402
from world.lisp.reader import read  # noqa: E402
from world.lisp.types import Primitive, Symbol  # noqa: E402

DEADLINE = 0.3          # seconds: the time limit of the deadline runs
AFTER = 0.2             # seconds: when the interrupt is sent


def spin() -> None:
    """A long primitive: loops in Python, never charges a step."""
    while True:
        pass


WORKLOADS = [
    ("python loop in a primitive", "(spin)"),
    ("lisp loop", "(let loop ((i 0)) (loop (+ i 1)))"),
]


def environment() -> Environment:
    env = Environment(caps=["core"])
    env.define(Symbol("spin"), Primitive("spin", spin))
    return env


def after_deadline(env: Environment, text: str) -> float:
    """Seconds from the deadline to the stop."""
    form = read(text)
    t = time.monotonic()
    try:
        runtime.run(env, form, Limits(seconds=DEADLINE, steps=10 ** 15))
    except BudgetExceeded as e:
        assert e.budget == "time", e
    return time.monotonic() - t - DEADLINE


def after_interrupt(env: Environment, text: str, send: Callable[[], None]) -> float:
    """Seconds from the interrupt to the stop."""
    form = read(text)
    sent: list[float] = []

    def fire() -> None:
        sent.append(time.monotonic())
        send()

    timer = threading.Timer(AFTER, fire)
    timer.start()
    try:
        runtime.run(env, form, Limits(seconds=60.0, steps=10 ** 15))
    except BudgetExceeded as e:
        assert e.budget == "interrupt", e
    finally:
        timer.cancel()
    return time.monotonic() - sent[0]


def sigint() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def row(name: str, times: list[float]) -> None:
    ms = [t * 1000 for t in times]
    print(f"{name:<48}{statistics.median(ms):>8.1f}ms{max(ms):>8.1f}ms{len(ms):>6}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="three runs each (for CI)")
    args = ap.parse_args()
    repeat = 3 if args.quick else 9
    env = environment()
    print(f"{'stop':<48}{'median':>10}{'worst':>10}{'runs':>6}")
    for name, text in WORKLOADS:
        row(f"deadline -> stop, {name}", [after_deadline(env, text) for _ in range(repeat)])
        row(f"interrupt() -> stop, {name}",
            [after_interrupt(env, text, runtime.interrupt) for _ in range(repeat)])
        row(f"SIGINT -> stop, {name}", [after_interrupt(env, text, sigint) for _ in range(repeat)])


if __name__ == "__main__":
    main()
