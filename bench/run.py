"""Language benchmark: the world's Lisp (budgets on) against native CPython.

    python bench/run.py [--quick]

Each workload runs in one process, side by side with the same algorithm in
plain Python; the best of several runs is reported with its ratio to native.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import sys
import time

sys.setrecursionlimit(100_000)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import world  # noqa: E402

LISP = """
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (tak x y z) (if (not (< y x)) z (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))))
(define (build n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (cons i acc)))))
(define (sum lst) (let loop ((l lst) (s 0)) (if (null? l) s (loop (cdr l) (+ s (car l))))))
(define (count-to n) (let loop ((i 0)) (if (< i n) (loop (+ i 1)) i)))
"""


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def tak(x: int, y: int, z: int) -> int:
    return z if not y < x else tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))


def build_sum(n: int) -> int:
    acc = None
    for i in range(n):
        acc = (i, acc)
    s = 0
    while acc is not None:
        s += acc[0]
        acc = acc[1]
    return s


def count_to(n: int) -> int:
    i = 0
    while i < n:
        i += 1
    return i


WORKLOADS = [
    ("fib 25", "(fib 25)", lambda: fib(25)),
    ("tak 18 12 6", "(tak 18 12 6)", lambda: tak(18, 12, 6)),
    ("build+sum 100k list", "(sum (build 100000))", lambda: build_sum(100_000)),
    ("tail loop 10^6", "(count-to 1000000)", lambda: count_to(1_000_000)),
]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one run each (for CI)")
    args = ap.parse_args()
    repeat = 1 if args.quick else 5
    w = world.open()
    w.eval(LISP)
    print(f"{'workload':<22}{'native':>10}{'world':>10}{'ratio':>8}{'steps':>10}")
    for name, lisp, native in WORKLOADS:
        tn = best(native, repeat)
        tl = best(lambda: w.eval(lisp), repeat)
        assert world.write(w.eval(lisp)) == str(native())
        print(f"{name:<22}{tn * 1000:>8.1f}ms{tl * 1000:>8.1f}ms{tl / tn:>7.2f}x{w.last.steps:>10}")
    with tempfile.TemporaryDirectory() as folder:
        # As an installed world runs: bytecode cached (this machine may set
        # PYTHONDONTWRITEBYTECODE), and the default image already made by a first call.
        env = dict(os.environ, PYTHONPATH=ROOT, PYTHONPYCACHEPREFIX=os.path.join(folder, "pyc"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmd = [sys.executable, "-m", "repl.cli", "eval", "(+ 1 2)"]
        ref = [sys.executable, "-c", "pass"]
        subprocess.run(cmd, check=True, env=env, cwd=folder, capture_output=True)
        t_ref = best(lambda: subprocess.run(ref, check=True, env=env, cwd=folder), max(repeat, 3))
        t_eval = best(lambda: subprocess.run(cmd, check=True, env=env, cwd=folder,
                                             capture_output=True), max(repeat, 3))
    print(f"{'world eval (+ 1 2)':<22}{t_ref * 1000:>8.1f}ms{t_eval * 1000:>8.1f}ms"
          f"{t_eval / t_ref:>7.2f}x   (whole process; reference: python -c pass)")
    if args.quick:          # history at scale, in its short form (figures only, nothing timed is asserted)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_history.py"), "--quick"],
                       check=True, timeout=120)


if __name__ == "__main__":
    main()
