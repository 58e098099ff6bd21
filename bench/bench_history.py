"""History and audit benchmarks.

    python bench/bench_history.py            # the figures issue 4 asks for
    python bench/bench_history.py --quick    # a short run, for CI

1. committing one definition with audit (FileStorage, median), against the
   same definition in a world that records no history (the hook removed);
2. rebuilding an image of N atomic commits (default 10 000) from atomic
   history, against replaying the same forms into a world with no history;
3. `(history/verify)` over those N commits, cold (a freshly opened image)
   and warm, against merely loading every commit's source.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import world  # noqa: E402
from world.history import detach  # noqa: E402
from world.history.record import eval_forms  # noqa: E402
from world.build import rebuild  # noqa: E402
from world.history.views import no_gc, verify  # noqa: E402


def body(i: int) -> str:
    """A small but realistic definition: a docstring, a branch, a loop."""
    return (f'(define (f{i} n)\n  "Sum of the first n numbers, plus {i}."\n'
            f"  (let loop ((k 0) (acc {i}))\n    (if (> k n) acc (loop (+ k 1) (+ acc k)))))")


def commit_times(folder: str | None, n: int) -> tuple[list[float], list[float]]:
    """Seconds to evaluate and commit one definition, n times each, alternating between a
    world that records no history and one with history and audit (so both see the same load).
    `folder` None: in-memory worlds (no disk, no fsync)."""
    plain, hist = [], []
    where = (lambda name: None) if folder is None else (lambda name: os.path.join(folder, name))
    with world.open(where("plain.fs")) as p, world.open(where("hist.fs")) as h:
        detach(p)
        p.eval(body(0))
        h.eval(body(0))
        for i in range(1, n + 1):
            for w, out in ((p, plain), (h, hist)):
                t = time.perf_counter()
                w.eval(body(i))
                out.append(time.perf_counter() - t)
    return plain, hist


def make_image(path: str, n: int, history: bool = True) -> float:
    """An image with n definitions made in batches of 500 forms per transaction; seconds taken."""
    t = time.perf_counter()
    with world.open(path) as w:
        if not history:
            detach(w)
        for lo in range(0, n, 500):
            text = "\n".join(body(i) for i in range(lo, min(n, lo + 500)))
            w._transact(lambda out: eval_forms(w, text), "bench: define")
        if history:
            w.eval('(commit "bench")')
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--commits", type=int, default=None, help="atomic commits for rebuild and verify")
    args = p.parse_args()
    n_lat = 50 if args.quick else 300
    n = args.commits or (1000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        plain, hist = commit_times(tmp, n_lat)
        mp, mh = statistics.median(plain), statistics.median(hist)
        print(f"commit one definition, no history:        median {mp * 1e3:7.2f} ms  (n={n_lat})")
        print(f"commit one definition, history + audit:   median {mh * 1e3:7.2f} ms  "
              f"({mh / mp:.2f}x; target < 5 ms)")
        extra = statistics.median(b - a for a, b in zip(plain, hist))
        print(f"  of which history + audit itself:        median {extra * 1e3:7.2f} ms  (paired difference)")
        mplain, mhist = commit_times(None, n_lat)
        mp, mh = statistics.median(mplain), statistics.median(mhist)
        print(f"same in memory (no fsync), no history:    median {mp * 1e3:7.2f} ms")
        print(f"same in memory, history + audit:          median {mh * 1e3:7.2f} ms  ({mh / mp:.2f}x)")

        src = os.path.join(tmp, "source.fs")
        made = make_image(src, n)
        ref = make_image(os.path.join(tmp, "ref.fs"), n, history=False)
        print(f"make {n} definitions with history:        {made:7.2f} s   "
              f"(without history {ref:.2f} s, {made / ref:.2f}x)")
        with world.open(src, read_only=True) as w:
            r = rebuild(w, os.path.join(tmp, "rebuilt.fs"), "atomic")
        assert r.ok, (r.mismatches[:3], r.errors[:3])
        print(f"rebuild {r.replayed} atomic commits:           {r.seconds:7.2f} s   "
              f"({r.seconds / ref:.2f}x replaying without history; target < 20 s)")

        with world.open(src, read_only=True) as w:
            t = time.perf_counter()
            bad = verify(w.image.root.history)
            cold = time.perf_counter() - t
            t = time.perf_counter()
            assert verify(w.image.root.history) is None and bad is None
            warm = time.perf_counter() - t
            count = w.image.root.history.count
        with world.open(src, read_only=True) as w, no_gc():
            t = time.perf_counter()
            total = sum(len(c.source) for c in w.image.root.history.commits.values())
            load = time.perf_counter() - t
        print(f"verify {count} commits, cold:              {cold:7.3f} s   "
              f"({cold / load:.2f}x loading every commit; target < 2 s)")
        print(f"verify {count} commits, warm:              {warm:7.3f} s   ({total} source characters)")


if __name__ == "__main__":
    main()
