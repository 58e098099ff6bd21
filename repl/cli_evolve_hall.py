"""`world evolve hall`: the hall of fame, one entry whole, and held-out evaluation.

    world evolve hall [--json]                      # every entry: id, fitness components, size
    world evolve hall RUN/0001 [--json]             # one entry: evaluator, helpers, natives
    world evolve hall RUN/0001 --held-out [--agent A --rounds N --per-round N ...]

A held-out evaluation runs the entry's evaluator as a single lineage on
problems its run never showed, prints its solve rate per category beside the
entry's own, and records the result with the entry (the listing's `held-out`
column). Run it again after a crash and it carries on where it stopped.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from world.objects.cli_support import add_world_args, open_from_args


def register(rsub: Any) -> None:
    """Add `hall` to `world evolve`'s subcommands."""
    h = rsub.add_parser("hall", help="the hall of fame: list it, show an entry, evaluate one "
                                     "on held-out problems",
                        description="List the hall of fame, show one entry whole, or evaluate "
                                    "an entry on problems its run never showed (--held-out).")
    add_world_args(h)
    h.add_argument("id", nargs="?", default="", help="an entry, e.g. RUN/0001 (default: list all)")
    h.add_argument("--json", action="store_true", help="print the entries (or the entry) as JSON")
    h.add_argument("--held-out", action="store_true",
                   help="evaluate the entry on problems its run never showed and record the result")
    g = h.add_argument_group(
        "held-out evaluation", "Defaults: the settings of the entry's run. An interrupted "
        "evaluation is carried on with its own settings; only --agent, --model, --timeout "
        "and --max-cost change it.")
    g.add_argument("--agent", help="model, reference (the pool's reference solutions) or replay:FILE")
    g.add_argument("--model", help="model name")
    g.add_argument("--rounds", type=int, help="rounds")
    g.add_argument("--per-round", type=int, help="problems per round (default: as many as its "
                                                 "run had, without repeats)")
    g.add_argument("--mode", choices=("tournament", "single"), help="how problems are drawn")
    g.add_argument("--problems", help="comma-separated problem ids to draw from (default: all)")
    g.add_argument("--seed", type=int, help="seed of the problem draw")
    g.add_argument("--temperature", type=float, metavar="T", help="sampling temperature, 0 to 1")
    g.add_argument("--timeout", type=float, metavar="SECONDS", help="per model call")
    g.add_argument("--record", metavar="FILE", help="record every reply to FILE (JSON lines)")
    g.add_argument("--no-self-modify", dest="self_modify", action="store_const", const=False,
                   help="the evaluator as it is: the lineage may not change my-eval or define natives")
    g.add_argument("--max-cost", type=float, metavar="USD",
                   help="stop (resumably) when the estimated cost reaches USD; carrying an "
                        "interrupted evaluation on, its new limit")
    h.set_defaults(func=cmd_hall)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The held-out flags given, as run settings."""
    from .cli_evolve import _ids
    keys = ("agent", "model", "rounds", "per_round", "mode", "seed", "temperature", "timeout",
            "record", "max_cost", "self_modify")
    out = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    if args.problems:
        out["problems"] = _ids(args.problems)
    return out


def cmd_hall(args: argparse.Namespace) -> int:
    """List the hall of fame, show one entry, or evaluate one on held-out problems."""
    from world.evolve.agent_errors import EvolveError
    from world.evolve.hall import entry_view, evaluate_held_out, hall_rows, table
    if args.held_out and not args.id:
        raise EvolveError("--held-out evaluates one entry: give its id, e.g. "
                          "`world evolve hall RUN/0001 --held-out` (list them with `world evolve hall`)")
    if not args.held_out and _given(args):
        raise EvolveError("--agent, --rounds and the other run flags are for --held-out")
    w = open_from_args(args)
    try:
        if args.held_out:
            from .cli_evolve import Status
            status = Status(sys.stderr if args.json else sys.stdout)     # stdout: JSON alone
            try:
                result = evaluate_held_out(w, args.id, status, **_given(args))
            finally:
                status.end()
            if args.json:
                print(json.dumps(result, indent=2, sort_keys=True))
            else:
                show_held_out(args.id, result, sys.stdout)
        elif args.id:
            view = entry_view(w, args.id)
            if args.json:
                print(json.dumps(view, indent=2, sort_keys=True))
            else:
                show_entry(view, sys.stdout)
        else:
            rows = hall_rows(w)
            if args.json:
                print(json.dumps(rows, indent=2, sort_keys=True))
            elif not rows:
                print("the hall of fame is empty: a run's finished generation enters its winner")
            else:
                from .cli_evolve import _print_table
                _print_table(table(rows), sys.stdout)
    finally:
        w.close()
    return 0


def _rate(pair: Any) -> str:
    if not pair:
        return "-"
    solved, tried = pair
    return f"{solved}/{tried} {100 * solved / tried:.0f}%" if tried else "-"


def category_rows(held: dict[str, Any]) -> list[list[str]]:
    """Solve rate per category: held-out beside the entry's own, then all categories."""
    own, mine = held.get("own_categories") or {}, held.get("categories") or {}
    rows = [["category", "held-out", "own"]]
    from world.evolve.rounds import CATEGORIES
    order = {c: i for i, c in enumerate(CATEGORIES)}
    for cat in sorted(set(mine) | set(own), key=lambda c: (order.get(c, len(order)), c)):
        rows.append([cat, _rate(mine.get(cat)), _rate(own.get(cat))])
    total = lambda d: [sum(v[0] for v in d.values()), sum(v[1] for v in d.values())]  # noqa: E731
    rows.append(["all", _rate(total(mine)), _rate(total(own))])
    return rows


def show_held_out(hid: str, held: dict[str, Any], out: TextIO) -> None:
    """A held-out evaluation's result, per category beside the entry's own."""
    from .cli_evolve import _print_table
    out.write(f"held-out evaluation of {hid} by {held['agent']}: {held['attempted']} attempt(s) "
              f"on {len(held['problems'])} problem(s) its run never showed\n")
    if held.get("failure"):
        out.write(f"the lineage failed: {held['failure']}\n")
    _print_table(category_rows(held), out)
    out.write(f"recorded with {hid} (run {held['run']}: `world evolve report {held['run']}`)\n")


def show_entry(view: dict[str, Any], out: TextIO) -> None:
    """One entry whole, as text."""
    c = view["components"]
    fit = "-" if view["fitness"] is None else f"{view['fitness']:.3f}"
    out.write(f"{view['id']}: {view['lineage']}, generation {view['generation']} of run "
              f"{view['run']}\n")
    out.write(f"fitness {fit} = " + ", ".join(
        f"{k} {'-' if v is None else f'{v:.2f}'}" for k, v in c.items()) + "\n")
    out.write(f"solved {view['solved']}/{view['attempted']}, {view['new_constructs']} new "
              f"construct(s), {view['evaluator_lines']} evaluator line(s), "
              f"{view['helpers']} helper(s), {view['natives']} native(s)\n")
    if view["categories"]:
        out.write("solved per category in its run: " + ", ".join(
            f"{k} {_rate(v)}" for k, v in view["categories"].items()) + "\n")
    out.write("\nmy-eval:\n" + (view["evaluator"] or "(none recorded)") + "\n")
    for kind in ("helpers", "natives"):
        if view[f"{kind}_sources"]:
            out.write(f"\n{kind}:\n")
            for name, source in view[f"{kind}_sources"]:
                out.write(f"  {name}: {source}\n")
    for held in view["held_out_runs"]:
        out.write("\n")
        show_held_out(view["id"], held, out)
    if not view["held_out_runs"]:
        out.write(f"\nnot evaluated on held-out problems: `world evolve hall {view['id']} "
                  f"--held-out`\n")
