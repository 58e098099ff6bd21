"""History at scale: the figures issue 12 asks for, at N definitions (default 100 000).

    python bench/bench_history.py                 # N = 100 000 (several minutes)
    python bench/bench_history.py --n 10000       # a smaller world
    python bench/bench_history.py --quick         # a few seconds, for CI (no timing asserted)
    python bench/bench_history.py --image DIR     # build the images in DIR once, reuse them

Every figure is printed with its target and, where one makes sense, a ratio
against a reference measured in the same run:

1. build: N definitions in batches of 500 forms per transaction (FileStorage),
   against the same forms in a world that records no history;
2. commit: evaluate and commit one new definition with history and audit, in
   the N-definition image (median and p99), against the same in an
   N-definition image with no history (alternating, so both see the same load);
3. reopen: a whole `world eval --world IMG '(f1 3)'` process, against the same
   command on a new (empty) image and against `python -c pass`;
4. verify: `views.findings(root)` on a freshly opened image, against merely
   loading every commit and every definition's value;
5. rebuild --from atomic (which verifies first), against building the same
   forms with no history;
6. growth: one name redefined R times, one form each: image size before
   packing, bytes per redefinition, against the same with no history;
7. concurrency: C ZEO client processes x D distinct definitions on a real ZEO
   server on a free loopback port: forms failed, conflicts met (by kind of
   transaction), forms recorded through the inbox, and whether the result verifies.

Child processes keep their bytecode in a scratch PYTHONPYCACHEPREFIX, as an
installed world would. `--profile DIR` writes a cProfile of commit, reopen
and verify to DIR.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import world  # noqa: E402
from world.history import detach  # noqa: E402
from world.history.record import eval_forms  # noqa: E402
from world.history.views import findings, no_gc  # noqa: E402

BATCH = 500


def body(i: int, name: str = "f") -> str:
    """A small but realistic definition: a docstring, a branch, a loop."""
    return (f'(define ({name}{i} n)\n  "Sum of the first n numbers, plus {i}."\n'
            f"  (let loop ((k 0) (acc {i}))\n    (if (> k n) acc (loop (+ k 1) (+ acc k)))))")


def ms(x: float) -> str:
    return f"{x * 1e3:8.2f} ms"


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


def line(what: str, figure: str, rest: str = "") -> None:
    print(f"{what:<44}{figure:>14}  {rest}".rstrip(), flush=True)


def child_env(folder: str) -> dict[str, str]:
    """A child's environment: this checkout's world, bytecode cached in `folder`."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONPYCACHEPREFIX=os.path.join(folder, "pyc"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def copy_image(src: str, dest: str) -> str:
    """A copy of an image and its index (so the copy opens without a scan)."""
    for ext in ("", ".index"):
        if os.path.exists(src + ext):
            shutil.copyfile(src + ext, dest + ext)
    return dest


# ---------------------------------------------------------------- 1. build

def build(path: str, n: int, history: bool = True) -> float:
    """An image of n definitions made in batches of 500 forms per transaction; seconds taken."""
    t = time.perf_counter()
    with world.open(path) as w:
        if not history:
            detach(w)
        for lo in range(0, n, BATCH):
            text = "\n".join(body(i) for i in range(lo, min(n, lo + BATCH)))
            w._transact(lambda out: eval_forms(w, text), "bench: define")
        if history:
            w.eval('(commit "bench")')
    return time.perf_counter() - t


def images(folder: str, n: int) -> tuple[str, str, float | None, float | None]:
    """The history and no-history images of n definitions in `folder` (reused if there)."""
    hist, plain = os.path.join(folder, f"hist-{n}.fs"), os.path.join(folder, f"plain-{n}.fs")
    made = ref = None
    if not os.path.exists(hist):
        made = build(hist, n)
    if not os.path.exists(plain):
        ref = build(plain, n, history=False)
    return hist, plain, made, ref


# ---------------------------------------------------------------- 2. commit

def commit_times(hist: str, plain: str, k: int) -> tuple[list[float], list[float]]:
    """Seconds to evaluate and commit one new definition, k times in each image, alternating."""
    h_times, p_times = [], []
    with world.open(plain) as p, world.open(hist) as h:
        detach(p)
        for w in (p, h):
            w.eval(body(0, "warm"))
        for i in range(1, k + 1):
            for w, out in ((p, p_times), (h, h_times)):
                t = time.perf_counter()
                w.eval(body(i, "new"))
                out.append(time.perf_counter() - t)
    return h_times, p_times


# ---------------------------------------------------------------- 3. reopen

def process_times(commands: dict[str, list[str]], folder: str, runs: int) -> dict[str, list[float]]:
    """Wall seconds of fresh processes running each command, interleaved, after one warm-up."""
    env = child_env(folder)
    times: dict[str, list[float]] = {key: [] for key in commands}
    for i in range(runs + 1):
        for key, argv in commands.items():
            t = time.perf_counter()
            r = subprocess.run([sys.executable, *argv], env=env, cwd=folder,
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"{key} failed: {r.stdout} {r.stderr}")
            if i:
                times[key].append(time.perf_counter() - t)
    return times


def eval_command(image: str, expr: str = "(f1 3)") -> list[str]:
    return ["-m", "repl.cli", "eval", "--world", image, expr]


# ---------------------------------------------------------------- 4. verify

def cold_verify(path: str) -> tuple[float, int, list[Any]]:
    """Seconds for `findings` on a freshly opened image, as `world history verify` runs it
    (the live definitions hashed by a second process); how many commits; the findings."""
    with world.open(path, read_only=True) as w:
        t = time.perf_counter()
        found = findings(w.image.root, image=path)
        took = time.perf_counter() - t
        return took, w.image.root.history.count, found


def cold_load(path: str) -> float:
    """Seconds to merely load every commit and every definition's value, freshly opened."""
    with world.open(path, read_only=True) as w, no_gc():
        t = time.perf_counter()
        for c in w.image.root.history.commits.values():
            c._p_activate()
        for d in w.image.root.definitions.values():
            d.value
        return time.perf_counter() - t


# ---------------------------------------------------------------- 5. rebuild

def rebuild_atomic(src: str, dest: str) -> Any:
    from world.build import rebuild
    with world.open(src, read_only=True) as w:
        r = rebuild(w, dest, "atomic")
    if not r.ok:
        raise SystemExit(f"rebuild failed: {r.mismatches[:3]} {r.errors[:3]}")
    return r


# ---------------------------------------------------------------- 6. growth

def growth(path: str, r: int, history: bool = True) -> tuple[int, int]:
    """Image bytes after one definition, and after redefining it r more times (one form each)."""
    with world.open(path) as w:
        if not history:
            detach(w)
        w.eval('(define (g n) "Version 0." (+ n 0))')
        start = w.image.size()
        for i in range(1, r + 1):
            w.eval(f'(define (g n) "Version {i}." (+ n {i}))')
        return start, w.image.size()


# ---------------------------------------------------------------- 7. concurrency

CLIENT = r"""
import json, sys, time
from ZODB.POSException import ConflictError
import world
from world.lisp.errors import LispError
addr, me, d, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
w = world.open(zeo=addr)
img = w.image
conflicts = {"form": 0, "link": 0}
commits = {"form": 0, "link": 0}
real = img.commit
def commit(note, names=()):
    kind = "link" if note.startswith("world: link") else "form"
    try:
        real(note, names)
    except ConflictError:
        conflicts[kind] += 1
        raise
    commits[kind] += 1
img.commit = commit
while time.time() < start:
    time.sleep(0.001)
failed, errors, t = 0, [], time.perf_counter()
for i in range(d):
    try:
        w.eval(f"(define (c{me}x{i} n) (+ n {i}))")
    except LispError as e:
        failed += 1
        errors.append(str(e)[:120])
took = time.perf_counter() - t
w.close()
print(json.dumps({"failed": failed, "errors": errors[:3], "conflicts": conflicts,
                  "commits": commits, "seconds": took}))
"""


def concurrency(folder: str, clients: int, each: int) -> dict[str, Any]:
    """C client processes defining D distinct names each over one ZEO server; what happened."""
    from world.objects.server import Server
    path = os.path.join(folder, "served.fs")
    env = child_env(folder)
    out: dict[str, Any] = {"failed": 0, "errors": [], "conflicts": {"form": 0, "link": 0},
                           "commits": {"form": 0, "link": 0}, "seconds": []}
    with Server(path) as server:
        world.open(zeo=server.address).close()       # history and rules made before the race
        start = time.time() + 1.5                     # every client imported and connected
        procs = [subprocess.Popen([sys.executable, "-c", CLIENT, server.address, str(c),
                                   str(each), str(start)], env=env, cwd=folder,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in range(clients)]
        for p in procs:
            so, se = p.communicate()
            if p.returncode != 0:
                raise SystemExit(f"a client crashed: {se.strip().splitlines()[-1:]}")
            r = json.loads(so.strip().splitlines()[-1])
            out["failed"] += r["failed"]
            out["errors"] += r["errors"]
            out["seconds"].append(r["seconds"])
            for k in ("conflicts", "commits"):
                for kind, v in r[k].items():
                    out[k][kind] += v
        with world.open(zeo=server.address) as w:
            root = w.image.root
            names = [f"c{c}x{i}" for c in range(clients) for i in range(each)]
            out["defined"] = sum(1 for x in names if x in root.definitions)
            out["recorded"] = sum(1 for x in names if root.history.latest(x) is not None)
            out["findings"] = [f.line() for f in findings(root)]
    return out


# ---------------------------------------------------------------- profiling

def profiled(folder: str | None, name: str, fn: Callable[[], Any]) -> Any:
    """Run fn, under cProfile into `folder`/`name`.prof if a folder is given."""
    if folder is None:
        return fn()
    prof = cProfile.Profile()
    try:
        return prof.runcall(fn)
    finally:
        prof.dump_stats(os.path.join(folder, f"{name}.prof"))


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a few seconds, for CI")
    p.add_argument("--n", type=int, default=None, help="definitions in the world (100 000)")
    p.add_argument("--image", metavar="DIR", help="build the images in DIR, or reuse them")
    p.add_argument("--only", default="build,commit,reopen,verify,rebuild,growth,concurrency",
                   help="comma-separated phases to run")
    p.add_argument("--profile", metavar="DIR", help="write cProfile stats of each phase to DIR")
    args = p.parse_args(argv)
    quick = args.quick
    n = args.n or (200 if quick else 100_000)
    k = 20 if quick else 1000                       # commits timed
    runs = 1 if quick else 5                        # processes timed
    redefs = 100 if quick else 10_000
    clients, each = (2, 5) if quick else (8, 100)
    only = set(args.only.split(","))
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    tmp = tempfile.TemporaryDirectory()
    folder = tmp.name
    keep = args.image or folder
    os.makedirs(keep, exist_ok=True)
    print(f"# bench_history: N = {n} definitions; {sys.platform}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    try:
        hist, plain, made, ref = images(keep, n)
        if made is not None and ref is not None:
            line(f"build {n} definitions, history + audit", f"{made:8.2f} s",
                 f"{made / ref:.2f}x the same with no history ({ref:.2f} s); "
                 f"{os.path.getsize(hist) / 1e6:.0f} MB")

        if "commit" in only:
            h, p_ = profiled(args.profile, "commit", lambda: commit_times(
                copy_image(hist, os.path.join(folder, "c-hist.fs")),
                copy_image(plain, os.path.join(folder, "c-plain.fs")), k))
            mh, mp = statistics.median(h), statistics.median(p_)
            line(f"commit one definition at {n}, median", ms(mh),
                 f"target < 2 ms; {mh / mp:.2f}x no history ({ms(mp).strip()}), n={k}")
            line(f"commit one definition at {n}, p99", ms(pct(h, 0.99)),
                 f"target < 20 ms; no history {ms(pct(p_, 0.99)).strip()}; max {ms(max(h)).strip()}")

        if "reopen" in only:
            empty = os.path.join(folder, "empty.fs")
            world.open(empty).close()
            t = process_times({"big": eval_command(hist), "empty": eval_command(empty, "(+ 4 3)"),
                               "python": ["-c", "pass"]}, folder, runs)
            big, small, py = (statistics.median(t[x]) for x in ("big", "empty", "python"))
            line(f"reopen {n} and call (f1 3), whole process", ms(big),
                 f"target < 500 ms; {big / small:.2f}x on an empty image ({ms(small).strip()}); "
                 f"python -c pass {ms(py).strip()}; best {ms(min(t['big'])).strip()}")
            if args.profile:
                profiled(args.profile, "reopen", lambda: _reopen_in_process(hist))

        if "verify" in only:
            took, count, found = profiled(args.profile, "verify", lambda: cold_verify(hist))
            load = cold_load(hist)
            line(f"cold verify {count} commits, {n} definitions", f"{took:8.3f} s",
                 f"target < 5 s; {took / load:.2f}x loading every commit and value "
                 f"({load:.3f} s); {len(found)} findings")
            if found:
                print("  first finding:", found[0].line())
            t = process_times({"verify": ["-m", "repl.cli", "history", "verify", "--read-only",
                                          "--world", hist]}, folder, 1 if quick else 2)["verify"]
            line("  `world history verify`, whole process", f"{min(t):8.3f} s",
                 f"best of {len(t)}; exit included (the collector's last pass)")

        if "rebuild" in only:
            r = rebuild_atomic(hist, os.path.join(folder, "rebuilt.fs"))
            reference = ref if ref is not None else build(os.path.join(folder, "ref.fs"), n, False)
            line(f"rebuild --from atomic, {r.replayed} commits", f"{r.seconds:8.2f} s",
                 f"target < 60 s; {r.seconds / reference:.2f}x building with no history "
                 f"({reference:.2f} s)")

        if "growth" in only:
            a, b = growth(os.path.join(folder, "grow.fs"), redefs)
            c, d = growth(os.path.join(folder, "grow-plain.fs"), redefs, history=False)
            per, per_plain = (b - a) / redefs, (d - c) / redefs
            line(f"redefine one name {redefs} times", f"{b / 1e6:8.2f} MB",
                 f"target < 15 MB at 10 000 (before packing); {per:.0f} B per redefinition, "
                 f"{per / per_plain:.2f}x no history ({per_plain:.0f} B)")

        if "concurrency" in only:
            c = concurrency(folder, clients, each)
            line(f"{clients} ZEO clients x {each} distinct definitions", f"{c['failed']:>5} failed",
                 f"target 0; {c['defined']}/{clients * each} defined, {c['recorded']} recorded; "
                 f"slowest client {max(c['seconds']):.1f} s")
            print(f"  conflicts: {c['conflicts']['form']} form transactions, "
                  f"{c['conflicts']['link']} inbox links; committed {c['commits']['form']} forms, "
                  f"{c['commits']['link']} links; verify: {len(c['findings'])} findings", flush=True)
            for e in c["errors"][:3] + c["findings"][:3]:
                print("  ", e)
    finally:
        tmp.cleanup()


def _reopen_in_process(path: str) -> None:
    with world.open(path) as w:
        assert w.eval("(f1 3)") == 7


if __name__ == "__main__":
    main()
