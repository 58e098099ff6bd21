"""`world evolve batch` and `world evolve compare`: seeded repetitions and side-by-side runs.

    world evolve batch --seeds N [--seed S] [--batch-id NAME] [every `world evolve` flag] [--json]
    world evolve compare RUN_OR_BATCH... [--json]

A batch runs the configuration once per seed (S..S+N-1, default 1..N) as runs
`NAME-s1`, `NAME-s2`, ...; re-running it with the same --batch-id skips the
finished runs and resumes an interrupted one. It prints the mean and spread
of every fitness component over the winners and over all lineages, and the
solve rate per category (world/evolve/batch.py).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any, Iterator, TextIO

from world.objects.cli_support import add_world_args, image_path, open_from_args


def register(rsub: Any) -> None:
    """Add `batch` and `compare` to `world evolve`'s subcommands."""
    from repl.cli_evolve import add_run_args
    b = rsub.add_parser("batch", help="N seeded runs of one configuration: mean and spread",
                        description="Run one configuration once per seed and report the mean "
                                    "and spread of every fitness component and the solve rate "
                                    "per category. Re-run with the same --batch-id to carry an "
                                    "interrupted batch on.")
    add_world_args(b)
    add_run_args(b)
    b.add_argument("--seeds", type=int, metavar="N",
                   help="how many seeded runs (seeds S..S+N-1, S from --seed, default 1); "
                        "optional when carrying a batch on, larger to extend it")
    b.add_argument("--batch-id", metavar="NAME",
                   help="the batch to start or carry on (default: batch-DATE-TIME-xxxx)")
    b.add_argument("--json", action="store_true", help="print the statistics as JSON")
    b.set_defaults(func=cmd_batch)
    c = rsub.add_parser("compare", help="runs or batches side by side",
                        description="Put runs or batches side by side: the settings that "
                                    "differ, every fitness component, solve rate per "
                                    "category, cost, tokens, models and endpoints.")
    add_world_args(c)
    c.add_argument("names", nargs="+", metavar="RUN_OR_BATCH")
    c.add_argument("--json", action="store_true", help="print the comparison as JSON")
    c.set_defaults(func=cmd_compare)


@contextlib.contextmanager
def _world_for(args: argparse.Namespace) -> Iterator[tuple[Any, str | None]]:
    """The world to run in, and the ZEO address workers dial (one started here with --parallel)."""
    from world.evolve.agent_errors import EvolveError
    if getattr(args, "read_only", False):
        raise EvolveError("a batch stores its runs in the world: drop --read-only")
    parallel = args.parallel and args.parallel > 1
    if parallel and args.memory:
        raise EvolveError("--parallel needs a world image or --zeo, not --memory")
    server, zeo = None, args.zeo
    if parallel and not zeo:
        from world.objects.server import Server
        server = Server(os.path.abspath(image_path(args)))
        zeo = server.address
    try:
        if zeo and zeo != args.zeo:
            import world
            w = world.open(zeo=zeo)
        else:
            w = open_from_args(args)
        try:
            yield w, zeo
        finally:
            w.close()
    finally:
        if server is not None:
            server.stop()


class BatchStatus:
    """Progress of a batch: a line per run, and the run's own status line on a terminal."""

    def __init__(self, out: TextIO) -> None:
        from repl.cli_evolve import Status
        self.out = out
        self.inner = Status(out)

    def __call__(self, e: dict[str, Any]) -> None:
        phase = e.get("phase", "")
        if phase.startswith("batch-"):
            self.inner.end()
            verb = {"batch-run": "starts", "batch-resume": "resumes", "batch-skip": "is done already",
                    "batch-stopped": "stopped short (resumable)"}.get(phase, phase)
            self.out.write(f"batch {e['batch']}: run {e['run']} (seed {e['seed']}) {verb}\n")
            self.out.flush()
            self.inner.solved.clear()
            self.inner.fitness.clear()
        elif self.inner.tty or phase in ("lineage-done", "lineage-failed"):
            self.inner(e)           # off a terminal, one line per lineage, not per problem

    def end(self) -> None:
        self.inner.end()


def _settings(args: argparse.Namespace, world: Any) -> dict[str, Any]:
    """The run configuration the flags give (None: not given); a new batch's model defaults to
    the world's evolve.model setting, as `world evolve`'s does (a stored batch keeps its own)."""
    from repl.cli_evolve import run_settings
    from world.evolve.agent_errors import EvolveError
    from world.evolve.model import MODEL_SETTING
    if getattr(args, "run_id", None):
        raise EvolveError("a batch names its runs NAME-s1, NAME-s2, ...: give --batch-id, "
                          "not --run-id")
    kw = run_settings(args)
    from world.evolve.batch import find_batch
    fresh = not args.batch_id or find_batch(world, args.batch_id) is None
    if fresh and kw.get("model") is None and (kw.get("agent") or "model") == "model":
        kw["model"] = world.image.root.settings.get(MODEL_SETTING) or None
    kw.pop("seed", None)
    return kw


def cmd_batch(args: argparse.Namespace) -> int:
    """Run (or carry on) a batch and print its statistics."""
    from world.evolve.batch import OPERATIONAL, batch_stats, open_batch, run_batch, seed_range
    seeds = seed_range(args.seed, args.seeds)
    with _world_for(args) as (w, zeo):
        given = _settings(args, w)
        batch = open_batch(w, args.batch_id, given, seeds)
        where = sys.stderr if args.json else sys.stdout
        status = BatchStatus(where)
        where.write(f"batch {batch.id}: seeds {_seeds(batch.seeds)}; carry it on with "
                    f"`world evolve batch --batch-id {batch.id}`\n")
        try:
            run_batch(w, batch, status, zeo, {k: v for k, v in given.items() if k in OPERATIONAL})
        finally:
            status.end()
        w.image.begin()
        stats = batch_stats(w, batch)
    if args.json:
        print(json.dumps(stats, indent=1, sort_keys=True))
    else:
        print_stats(stats, sys.stdout)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Print runs or batches side by side."""
    from repl.cli_evolve import _print_table
    from world.evolve.compare import compare, rows
    w = open_from_args(args)
    try:
        data = compare(w, args.names)
    finally:
        w.close()
    if args.json:
        print(json.dumps(data, indent=1, sort_keys=True))
    else:
        _print_table(rows(data), sys.stdout)
    return 0


def report(world: Any, args: argparse.Namespace) -> bool:
    """`world evolve report BATCH`: print the batch's statistics; False if `args.run` names a run."""
    from world.evolve.agent_errors import EvolveError
    from world.evolve.batch import batch_stats, find_batch
    from world.evolve.lineage import evolve_root
    root = evolve_root(world.image, create=False)
    batch = find_batch(world, args.run)
    if batch is None or (root is not None and args.run in root.runs):
        return False
    if args.png or args.html is not None:
        raise EvolveError(f"{args.run} is a batch: `world evolve report {args.run}` prints its "
                          f"statistics; --png and --html draw one run (e.g. "
                          f"{batch.run_id(batch.seeds[0])})")
    print_stats(batch_stats(world, batch), sys.stdout)
    return True


def _seeds(seeds: Any) -> str:
    return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_stats(st: dict[str, Any], out: TextIO) -> None:
    """A batch's statistics as text tables."""
    from repl.cli_evolve import _print_table
    from world.evolve.batch import COMPONENTS
    s = st["settings"]
    out.write(f"batch {st['batch']} ({st['status']}): {st['finished']}/{len(st['seeds'])} runs "
              f"finished, seeds {_seeds(st['seeds'])}, agent {s['agent']}, mode {s['mode']}, "
              f"{s['lineages']} lineage(s), {s['rounds']} round(s), {s['generations']} "
              f"generation(s), {s['per_round']} problems per round\n")
    given = {k: v for k, v in st["given"].items() if k not in ("agent", "mode", "lineages",
                                                                "rounds", "generations", "per_round")}
    if given:
        out.write("also: " + ", ".join(f"{k} {v}" for k, v in sorted(given.items())) + "\n")
    rows = [["run", "seed", "status", "winner", "fitness", "solved"]]
    for r in st["runs"]:
        rows.append([r["run"], str(r["seed"]), r["status"], r.get("winner") or "-",
                     _f(r.get("fitness")),
                     f"{r['solved']}/{r['attempted']}" if "solved" in r else "-"])
    _print_table(rows, out)
    out.write("\nfitness components (mean, sample sd, min, max)\n")
    rows = [["over", "component", "n", "mean", "sd", "min", "max"]]
    for over in ("winners", "lineages"):
        for k in COMPONENTS:
            v = st[over][k]
            rows.append([over, k, str(v["n"]), _f(v["mean"]), _f(v["sd"]), _f(v["min"]),
                         _f(v["max"])])
    _print_table(rows, out)
    out.write("\nsolve rate per category (per run, over all lineages)\n")
    rows = [["category", "runs", "mean", "sd", "min", "max", "solved"]]
    for c, v in st["categories"].items():
        rows.append([c, str(v["n"]), _f(v["mean"]), _f(v["sd"]), _f(v["min"]), _f(v["max"]),
                     f"{v['solved']}/{v['attempted']}"])
    if len(rows) == 1:
        rows.append(["(no finished run)", "", "", "", "", "", ""])
    _print_table(rows, out)
    u = st["usage"]
    out.write(f"\nusage: {u['calls']} model calls, {u['tokens_in']} tokens in, "
              f"{u['tokens_out']} out, estimated ${u['cost']:.4f}")
    if st["endpoints"]:
        out.write(f"; endpoint: {', '.join(st['endpoints'])}; "
                  f"model(s): {', '.join(st['models']) or '-'}")
    out.write("\n")
