"""`world evolve`: run, resume and report tournaments of lineages.

    world evolve --lineages M --rounds N --generations G [--agent A] [--parallel P] [--model NAME]
    world evolve --mode single --rounds N [--temperature T]     # one lineage evolving alone
    world evolve --resume [RUN]
    world evolve report RUN [--png PATH] [--html [PATH]]

Progress is one status line (lineage, round, problem, steps, solved,
fitness), redrawn in place on a terminal and printed line by line
otherwise. `--parallel P` runs lineages in P worker processes sharing the
world through ZEO; with an image file, a ZEO server on loopback is started
for the run and stopped after it.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from world.objects.cli_support import add_world_args, image_path, open_from_args

EXIT_COST = 4               # the run stopped at its --max-cost: not an error, and resumable


def register(sub: Any) -> None:
    """Add `evolve` to the `world` command's subparsers."""
    p = sub.add_parser("evolve", help="run tournaments of evolving lineages (see `world evolve -h`)",
                       description="Run, resume or report tournaments of lineages.")
    add_world_args(p)
    add_run_args(p)
    p.add_argument("--resume", nargs="?", const="", metavar="RUN",
                   help="carry on the last unfinished run (or RUN)")
    p.set_defaults(func=cmd_evolve)
    rsub = p.add_subparsers(dest="evolve_command")
    r = rsub.add_parser("report", help="summary table, a PNG of every fitness component by "
                                       "generation and lineage, and (--html) a page")
    add_world_args(r)
    r.add_argument("run", nargs="?", default="", help="the run (default: the last one)")
    r.add_argument("--png", metavar="PATH", help="where to write the plot (default: RUN-fitness.png)")
    r.add_argument("--html", nargs="?", const="", metavar="PATH",
                   help="also write one self-contained HTML page: settings, tables, diffs, hall "
                        "of fame and plots (default: RUN-report.html)")
    r.set_defaults(func=cmd_report)
    __import__("repl.cli_evolve_hall", fromlist=["register"]).register(rsub)
    __import__("repl.cli_evolve_batch", fromlist=["register"]).register(rsub)


def add_run_args(p: Any) -> None:
    """Every flag that configures a run (shared by `world evolve` and its subcommands)."""
    p.add_argument("--lineages", type=int, help="lineages per generation (default 4)")
    p.add_argument("--rounds", type=int, help="rounds per lineage (default 3)")
    p.add_argument("--generations", type=int, help="generations (default 1)")
    p.add_argument("--agent", help="model (default), reference (the pool's reference solutions, "
                                    "not a model) or replay:FILE")
    p.add_argument("--model", help="model name (default: the world's evolve.model setting, "
                                    "else claude-sonnet-4-6)")
    p.add_argument("--parallel", type=int, help="worker processes (default 1)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="per model call (default 120); rate limits and overloads are retried")
    p.add_argument("--per-round", type=int, help="problems per round (default 15)")
    p.add_argument("--mode", choices=("tournament", "single"),
                   help="tournament (default: lineages compete, from round 2 every category "
                        "each round) or single (one lineage alone, problems weighted by difficulty)")
    p.add_argument("--temperature", type=float, metavar="T",
                   help="the model's sampling temperature, 0 to 1 (default: the API's)")
    p.add_argument("--problems", help="comma-separated problem ids to draw from (default: all)")
    p.add_argument("--seed", type=int, help="seed of the problem draw (default 1)")
    p.add_argument("--record", metavar="FILE", help="record every reply to FILE (JSON lines)")
    p.add_argument("--run-id", help="name of the new run (default: run-DATE-TIME-xxxx)")
    p.add_argument("--personalities", metavar="FILE",
                   help="each lineage's system-prompt addendum: a JSON list of "
                        "{\"name\", \"prompt\"} or blocks headed `# name`")
    p.add_argument("--islands", type=int, metavar="K",
                   help="evolve K populations (default 1: winner takes all)")
    p.add_argument("--migrate-every", type=int, metavar="G",
                   help="with islands, the best evaluators migrate every G generations (0: never)")
    p.add_argument("--no-self-modify", dest="self_modify", action="store_const", const=False,
                   help="ablation: lineages may not change my-eval or define natives")
    p.add_argument("--no-reflection", dest="reflection", action="store_const", const=False,
                   help="ablation: no reflection phase between rounds")
    p.add_argument("--no-metacognition", dest="metacognition", action="store_const", const=False,
                   help="ablation: no scratchpad forms beyond plain code and (done ...)")
    p.add_argument("--max-cost", type=float, metavar="USD",
                   help="stop (resumably) when the estimated cost reaches USD")
    p.add_argument("--no-cache", dest="cache", action="store_const", const=False,
                   help="send no prompt-caching marks")
    p.add_argument("--adversary", action="store_const", const=True,
                   help="a model proposes new problems for later rounds")
    p.add_argument("--from-hall", metavar="ID",
                   help="start from a hall-of-fame evaluator (see `world evolve hall`)")


RUN_FLAGS = ("agent", "lineages", "rounds", "generations", "parallel", "per_round", "seed",
             "record", "timeout", "mode", "temperature", "islands", "migrate_every",
             "self_modify", "reflection", "metacognition", "max_cost", "cache", "adversary",
             "from_hall")


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run-configuration flags of `args` as `start()` keyword arguments (None: not given)."""
    out = {k: getattr(args, k, None) for k in RUN_FLAGS}
    out["problems"] = _ids(getattr(args, "problems", None))
    out["model"] = getattr(args, "model", None)
    path = getattr(args, "personalities", None)
    if path:
        from world.evolve.personalities import load_personalities
        out["personalities"] = load_personalities(path)
    return out


class Status:
    """The live progress display: one line, in place on a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.solved: dict[str, int] = {}
        self.fitness: dict[str, float] = {}
        self.width = 0
        self.last = ""

    def __call__(self, e: dict[str, Any]) -> None:
        phase = e.get("phase")
        name = e.get("lineage", "")
        if phase == "problem-done":
            self.solved[name] = self.solved.get(name, 0) + bool(e.get("solved"))
        if phase == "poll":
            from world.evolve.report import progress
            line = " | ".join(_poll_cell(r) for r in progress(e["run"]))
            if line != self.last:
                self.show(line, "step")
        elif phase in ("problem", "problem-done"):
            fit = self.fitness.get(name)
            self.show(f"{name} round {e['round']} problem {e['problem']} "
                      f"steps {e['steps']}/{e['budget']} solved {self.solved.get(name, 0)} "
                      f"fitness {'-' if fit is None else f'{fit:.3f}'}",
                      "step" if phase == "problem-done" else "live")
        elif phase == "reflection":
            self.show(f"{name} reflects after round {e['round']}", "live")
        elif phase == "lineage-done":
            self.fitness[name] = e["fitness"]
            self.show(f"{name} done: solved {e['solved']}, fitness {e['fitness']:.3f}", "keep")
        elif phase == "generation":
            self.show(f"generation {e['generation']}", "keep")

    def show(self, line: str, kind: str) -> None:
        """Draw `line`: in place on a terminal ("keep" ends it); else print steps and keeps."""
        self.last = line
        if self.tty:
            self.out.write("\r" + line + " " * max(0, self.width - len(line)))
            self.width = len(line)
            if kind == "keep":
                self.out.write("\n")
                self.width = 0
        elif kind != "live":
            self.out.write(line + "\n")
        self.out.flush()

    def end(self) -> None:
        """Finish the line in place, if one is drawn."""
        if self.tty and self.width:
            self.out.write("\n")
            self.out.flush()
            self.width = 0


def _poll_cell(r: dict[str, Any]) -> str:
    """One lineage in the parallel progress line."""
    if r["fitness"] is not None:
        return f"{r['lineage']} done, solved {r['solved']}, fitness {r['fitness']:.3f}"
    if r["problem"] is None:
        return f"{r['lineage']} waiting"
    return f"{r['lineage']} round {r['round']} problem {r['problem']} solved {r['solved']}"


def _print_table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")


def _setup(run: Any) -> str:
    """The run's mode and sampling temperature, as recorded with it."""
    s = run.settings
    t = s.get("temperature")
    from world.evolve.ablations import off
    found = s.get("personalities") or ()
    return (f"mode: {s.get('mode', 'tournament')}, {s['lineages']} lineage(s), {s['rounds']} "
            f"round(s), {s['generations']} generation(s), temperature: "
            f"{'the API default' if t is None else t}"
            f"; ablations: {' '.join(off(s)) or 'none'}"
            + (f"; personalities: {', '.join(n for n, _ in found)}" if found else ""))


def _usage(run: Any) -> None:
    from world.evolve.report import models_used
    u = run.usage.as_dict()
    limit = run.settings.get("max_cost")
    cache = (f"cached prompt tokens: {u['cache_write']} written, {u['cache_read']} read"
             if run.settings.get("cache", True) else "prompt caching off")
    print(f"run {run.id} ({run.agent}): {u['calls']} model calls, {u['tokens_in']} tokens in, "
          f"{u['tokens_out']} out, estimated ${u['cost']:.4f}"
          f"{'' if limit is None else f' (limit ${limit:.4f})'}; {cache}")
    if run.endpoints:
        print(f"endpoint: {', '.join(run.endpoints)}; model(s): {', '.join(models_used(run)) or '-'}")
    from world.evolve.adversary import proposal_lines
    for line in proposal_lines(run):        # --adversary: each proposal and its verdict
        print(line)


def _ids(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    from world.evolve.agent_errors import EvolveError
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise EvolveError(f"--problems takes comma-separated problem ids, not {text!r}") from None


def cmd_evolve(args: argparse.Namespace) -> int:
    """Run or resume a tournament."""
    from world.evolve.agent_errors import EvolveError
    from world.evolve.model import MODEL_SETTING
    from world.evolve.report import table
    from world.evolve.run import resume, start
    from world.evolve.spend import CostLimit
    if args.parallel and args.parallel > 1 and args.memory:
        raise EvolveError("--parallel needs a world image or --zeo, not --memory")
    server = None
    zeo = args.zeo
    if args.parallel and args.parallel > 1 and not zeo:
        from world.objects.server import Server
        server = Server(os.path.abspath(image_path(args)))
        zeo = server.address
    try:
        if zeo:
            import world
            mine = zeo == args.zeo           # the server the user named, not one started here
            w = world.open(zeo=zeo, tls=args.tls if mine else None,
                           zeo_timeout=getattr(args, "zeo_timeout", None) if mine else None)
        else:
            w = open_from_args(args)
        status = Status(sys.stdout)
        try:
            if args.resume is not None:
                run = resume(w, status, zeo, args.resume or None, args.agent, args.parallel,
                             getattr(args, "max_cost", None), getattr(args, "cache", None))
            else:
                kw = run_settings(args)
                kw["model"] = kw["model"] or w.image.root.settings.get(MODEL_SETTING) or ""
                run = start(w, status, zeo, args.run_id, **kw)
        except CostLimit as e:          # a requested stop, not an error: one line, resumable
            status.end()
            print(str(e))
            return EXIT_COST
        else:
            status.end()
            _print_table(table(run), sys.stdout)
            print(_setup(run))
            _usage(run)
        finally:
            status.end()
            w.close()
    finally:
        if server is not None:
            server.stop()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Print a run's summary table and write its fitness plot."""
    from world.evolve.report import plot, table
    from world.evolve.run import find_run
    w = open_from_args(args)
    try:
        if args.run and __import__("repl.cli_evolve_batch", fromlist=["report"]).report(w, args):
            return 0                    # a batch: its statistics
        run = find_run(w, args.run or None)
        print(f"run {run.id} ({run.status}), agent: {run.agent}")
        _print_table(table(run), sys.stdout)
        print(_setup(run))
        _usage(run)
        path = plot(run, args.png or f"{run.id}-fitness.png")
        print(f"plot: {path}")
        if args.html is not None:
            from world.evolve.html_report import write_html
            print(f"html: {write_html(w, run, args.html or f'{run.id}-report.html')}")
    finally:
        w.close()
    return 0
