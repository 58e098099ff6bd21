"""Evolution benchmarks, offline (`--agent reference`: the pool's reference
solutions, not a model; no API key is used).

    python bench/bench_evolve.py            # the figures the issue asks for
    python bench/bench_evolve.py --quick    # a short run, for CI

1. a tournament of 4 lineages x 3 rounds x 1 generation on a FileStorage
   image: wall time, attempts, solve rate, the winner's fitness;
2. harness time per problem attempt (no model latency: the reference player
   answers at once), split into the Lisp work of the cells (evaluation
   through my-eval, hidden cases) and the rest (prompts, extraction,
   records, commits); the ratio is against the Lisp work measured in the
   same run;
3. time to resume: a run killed with SIGKILL in the middle of a generation,
   then `resume`: seconds until the first new attempt starts, and to finish.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import world  # noqa: E402
from world.evolve import run as R  # noqa: E402
from world.evolve import meta  # noqa: E402


class LispClock:
    """Accumulates the time spent evaluating Lisp for cells (`meta.measured`)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.inner = meta.measured
        clock = self

        def timed(env, form, steps):
            t = time.perf_counter()
            try:
                return clock.inner(env, form, steps)
            finally:
                clock.total += time.perf_counter() - t
        meta.measured = timed

    def restore(self) -> None:
        meta.measured = self.inner


def tournament(folder: str, lineages: int, rounds: int) -> dict:
    """Run a reference tournament; time each attempt and its Lisp work."""
    marks: dict = {}
    clock = LispClock()
    per_attempt: list[tuple[float, float]] = []

    def progress(e: dict) -> None:
        if e.get("phase") == "problem" and e.get("turn") == 0:
            marks["start"], marks["lisp"] = time.perf_counter(), clock.total
        elif e.get("phase") == "problem-done":
            per_attempt.append((time.perf_counter() - marks["start"], clock.total - marks["lisp"]))

    path = os.path.join(folder, "tournament.fs")
    R.load_problems(R.make_settings())          # the pool loads once per process; not timed
    try:
        with world.open(path) as w:
            t = time.perf_counter()
            run = R.start(w, progress, agent="reference", run_id="bench", lineages=lineages,
                          rounds=rounds, generations=1)
            wall = time.perf_counter() - t
            gen = run.generations[1]
            winner = gen.lineages[gen.winner]
            attempts = [a for l in gen.lineages.values() for a in l.attempts()]
            return {"wall": wall, "attempts": len(attempts),
                    "solved": sum(a.solved for a in attempts), "winner": winner.name,
                    "fitness": dict(winner.fitness), "per_attempt": per_attempt,
                    "size": os.path.getsize(path)}
    finally:
        clock.restore()


def resume_time(folder: str, lineages: int, rounds: int, kill_after: int) -> dict:
    """Kill a CLI run with SIGKILL after `kill_after` attempts, then time `resume`."""
    path = os.path.join(folder, "resume.fs")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "evolve", "--world", path,
                             "--agent", "reference", "--lineages", str(lineages),
                             "--rounds", str(rounds), "--run-id", "killed"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                            cwd=folder)
    seen = 0
    while seen < kill_after:
        line = proc.stdout.readline()
        if not line:
            break
        seen += " problem " in line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    marks: dict = {}

    def progress(e: dict) -> None:
        if e.get("phase") == "problem" and "first" not in marks:
            marks["first"] = time.perf_counter()

    t = time.perf_counter()
    with world.open(path) as w:
        opened = time.perf_counter() - t
        R.resume(w, progress)
    done = time.perf_counter() - t
    return {"killed_after": seen, "open": opened, "first_attempt": marks.get("first", t) - t,
            "finish": done}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 lineages x 1 round, for CI")
    args = p.parse_args()
    lineages, rounds = (2, 1) if args.quick else (4, 3)
    print("agent: reference (the pool's reference solutions; not a model). "
          "No API key is available here, so no model figures.")
    with tempfile.TemporaryDirectory() as folder:
        r = tournament(folder, lineages, rounds)
        f = r["fitness"]
        print(f"1. tournament {lineages} lineages x {rounds} rounds x 1 generation: "
              f"{r['wall']:.2f} s, {r['attempts']} attempts, solved {r['solved']} "
              f"({r['solved'] / r['attempts']:.0%}); winner {r['winner']} fitness {f['total']:.3f} "
              f"(solve {f['solve']:.2f}, novelty {f['novelty']:.2f}, efficiency {f['efficiency']:.2f}, "
              f"diversity {f['diversity']:.2f}, richness {f['richness']:.2f}); image {r['size'] // 1024} KB")
        totals = [a for a, _ in r["per_attempt"]]
        lisp = [b for _, b in r["per_attempt"]]
        harness = [a - b for a, b in r["per_attempt"]]
        q = statistics.quantiles(totals, n=20) if len(totals) > 1 else totals * 19
        print(f"2. per attempt (no model latency): median {statistics.median(totals) * 1000:.1f} ms, "
              f"p95 {q[-1] * 1000:.1f} ms; of which Lisp work (my-eval, hidden cases) median "
              f"{statistics.median(lisp) * 1000:.1f} ms and harness median "
              f"{statistics.median(harness) * 1000:.1f} ms "
              f"(ratio harness / Lisp {statistics.median(harness) / max(1e-9, statistics.median(lisp)):.2f}); "
              f"target: under 50 ms")
        z = resume_time(folder, lineages, rounds, 3 if args.quick else 20)
        print(f"3. resume after SIGKILL (killed after {z['killed_after']} attempts): open "
              f"{z['open'] * 1000:.0f} ms, first new attempt after {z['first_attempt'] * 1000:.0f} ms, "
              f"finished in {z['finish']:.2f} s (ratio to the full run "
              f"{z['finish'] / r['wall']:.2f})")


if __name__ == "__main__":
    main()
