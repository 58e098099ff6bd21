"""Persistence benchmarks: what a world costs on disk and over ZEO.

    python bench/bench_persist.py            # the figures the issue asks for
    python bench/bench_persist.py --quick    # a short run, for CI

1. commit latency of one small top-level definition (FileStorage; median);
2. a whole process that opens a world of N definitions and calls one of them,
   beside a process that only imports world and one that binds every
   definition at open (what opening cost before definitions bound lazily);
3. the same world served by ZEO on loopback, and the ratio to FileStorage.

Child processes keep their bytecode in a scratch PYTHONPYCACHEPREFIX, as an
installed world would (this machine may set PYTHONDONTWRITEBYTECODE).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import world  # noqa: E402
from world.objects.server import Server  # noqa: E402

MAKE = ('(define (make-def i) (eval (list (quote define) (list (string->symbol '
        '(string-append "f" (number->string i))) (quote x)) "Doc." (list (quote +) (quote x) i))))')
OPEN_AND_CALL = ("import sys, world\n"
                 "w = world.open(sys.argv[1]) if sys.argv[1] != 'zeo' else world.open(zeo=sys.argv[2])\n"
                 "if sys.argv[-1] == 'all': w.names.load_all()\n"
                 "assert w.eval('(f77 1)') == 78\n")


def commit_latency(folder: str, n: int) -> list[float]:
    """Seconds to evaluate and commit `(define xI I)`, n times."""
    times = []
    with world.open(os.path.join(folder, "latency.fs")) as w:
        w.eval("(define warm 0)")
        for i in range(n):
            t = time.perf_counter()
            w.eval(f"(define x{i} {i})")
            times.append(time.perf_counter() - t)
    return times


def fsync_only(folder: str, n: int) -> list[float]:
    """Seconds to append 200 bytes to a file and fsync it: the disk's floor for a durable commit."""
    times = []
    with open(os.path.join(folder, "fsync.bin"), "ab") as f:
        for _ in range(n):
            t = time.perf_counter()
            f.write(b"x" * 200)
            f.flush()
            os.fsync(f.fileno())
            times.append(time.perf_counter() - t)
    return times


def eval_only(n: int) -> list[float]:
    """The same definitions evaluated with no database, for comparison."""
    from world.lisp.env import Environment
    from world.lisp.primitives import OWNER
    from world.lisp.reader import read
    from world.lisp.runtime import run
    env = Environment(OWNER)
    times = []
    for i in range(n):
        form = read(f"(define x{i} {i})")
        t = time.perf_counter()
        run(env, form)
        times.append(time.perf_counter() - t)
    return times


def build(path: str, n: int) -> float:
    """Make an image of n one-line procedures; return seconds taken."""
    t = time.perf_counter()
    with world.open(path) as w:
        w.eval(MAKE)
        w.eval(f"(for-each make-def (iota {n}))")
    return time.perf_counter() - t


def child_env(folder: str) -> dict[str, str]:
    """A child's environment: this checkout's world, bytecode cached in `folder`."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONPYCACHEPREFIX=os.path.join(folder, "pyc"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def processes(commands: dict[str, list[str]], folder: str, runs: int) -> dict[str, list[float]]:
    """Wall seconds of fresh processes running each command, interleaved, after one warm-up."""
    env = child_env(folder)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for i in range(runs + 1):
        for key, argv in commands.items():
            t = time.perf_counter()
            subprocess.run([sys.executable, *argv], check=True, env=env)
            if i:
                times[key].append(time.perf_counter() - t)
    return times


def ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:8.2f} ms"


def best(xs: list[float]) -> str:
    return f"best {min(xs) * 1000:.0f} ms"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer definitions and runs")
    args = p.parse_args()
    n_commit, n_defs, runs = (100, 1000, 2) if args.quick else (1000, 10_000, 7)
    with tempfile.TemporaryDirectory() as folder:
        lat = commit_latency(folder, n_commit)
        base = eval_only(n_commit)
        sync = fsync_only(folder, n_commit)
        print(f"commit one small definition (FileStorage), median of {n_commit}: {ms(lat)}"
              f"   p90 {sorted(lat)[int(0.9 * len(lat))] * 1000:.2f} ms")
        print(f"  evaluation alone, no database:                          {ms(base)}")
        print(f"  one small write + fsync on the same disk:               {ms(sync)}"
              f"   (FileStorage fsyncs every commit)")
        image = os.path.join(folder, "big.fs")
        print(f"building an image of {n_defs} definitions: {build(image, n_defs):.1f} s, "
              f"{os.path.getsize(image) / 1e6:.1f} MB")
        served = os.path.join(folder, "served.fs")      # the server holds its image's lock
        shutil.copyfile(image, served)
        with Server(served) as server:
            t = processes({"fs": ["-c", OPEN_AND_CALL, image],
                           "zeo": ["-c", OPEN_AND_CALL, "zeo", server.address],
                           "import": ["-c", "import world"],
                           "all": ["-c", OPEN_AND_CALL, image, "all"]}, folder, runs)
        print(f"process: open {n_defs} definitions and call one (FileStorage): {ms(t['fs'])}"
              f"   {best(t['fs'])}")
        print(f"  python -c 'import world' alone:                         {ms(t['import'])}"
              f"   {best(t['import'])}")
        print(f"  binding all {n_defs} definitions at open (the old way):    {ms(t['all'])}"
              f"   {best(t['all'])}   lazy is {statistics.median(t['all']) / statistics.median(t['fs']):.1f}x faster")
        ratio = statistics.median(t["zeo"]) / statistics.median(t["fs"])
        print(f"process: the same through ZEO on loopback:               {ms(t['zeo'])}"
              f"   {best(t['zeo'])}   ratio to FileStorage {ratio:.2f}")


if __name__ == "__main__":
    main()
