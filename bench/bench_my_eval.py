"""my-eval benchmark: the seed evaluator (the world's Lisp interpreting itself)
against the ground evaluator running the same program.

    python bench/bench_my_eval.py [--quick] [--n 15]

Both run (fib n) as one evaluation in the same world and process, through
`world.lisp.runtime.run` (no transaction around either); fib is defined once
on the ground and once through my-eval. The best of several runs is reported
with the ratio my-eval / ground, plus the step counts (deterministic), and
the ratio net of what evaluating the constant 0 costs (compiling a form and
handing it to the evaluation thread), which both pay once. Times are CPU
time (`time.process_time`), so other processes on a busy machine count less.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import world  # noqa: E402
from world.lisp.runtime import run  # noqa: E402

FIB = "(define ({name} n) (if (< n 2) n (+ ({name} (- n 1)) ({name} (- n 2)))))"


def best(w: world.World, texts: list[str], repeat: int) -> list[tuple[float, object, int]]:
    """The fastest of `repeat` runs of each text (interleaved): seconds, value, steps."""
    forms = [world.read(t) for t in texts]
    fastest = [float("inf")] * len(forms)
    results: list = [None] * len(forms)
    for _ in range(repeat):
        for i, form in enumerate(forms):
            t = time.process_time()
            results[i] = run(w.env, form)
            fastest[i] = min(fastest[i], time.process_time() - t)
    return [(f, r.value, r.steps) for f, r in zip(fastest, results)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    p.add_argument("--n", type=int, default=15, help="which Fibonacci number (default 15)")
    args = p.parse_args()
    repeat = 3 if args.quick else 30
    w = world.open()
    w.eval(FIB.format(name="fib"))
    w.eval(f"(eval-in my-eval '{FIB.format(name='mfib')})")
    ground, mine, empty = best(w, [f"(fib {args.n})", f"(my-eval '(mfib {args.n}) '())", "0"], repeat)
    assert ground[1] == mine[1], (ground, mine)
    print(f"(fib {args.n}) = {ground[1]}, best of {repeat}")
    print(f"  ground   {ground[0] * 1000:8.2f} ms  {ground[2]:>8} steps")
    print(f"  my-eval  {mine[0] * 1000:8.2f} ms  {mine[2]:>8} steps")
    print(f"  ratio    {mine[0] / ground[0]:8.1f}x (target: under 40x)")
    net = (mine[0] - empty[0]) / max(ground[0] - empty[0], 1e-9)
    print(f"  net      {net:8.1f}x after taking off an empty evaluation ({empty[0] * 1000:.2f} ms) from both")


if __name__ == "__main__":
    main()
