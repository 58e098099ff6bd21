"""`world inspect`, `world snapshots`, `world save`, `world restore`: the
REPL's views of the world as commands for scripts and CI.

Each prints plain text, or JSON with `--json`; errors are the CLI's usual
one `error:` line.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from world.inspect import TOPICS, inspect
from world.lisp.reader import read
from world.lisp.types import Keyword, Symbol

from .cli_common import EXIT_OK, add_json_arg, add_world_args, open_world, to_json


def _emit(args: argparse.Namespace, data: Any, text: str) -> int:
    if args.json:
        json.dump(to_json(data), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print(text)
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    """`world inspect WHAT`: a name, a :topic, or any expression's value."""
    with open_world(args) as w:
        what = read(args.what, "<inspect>")
        if type(what) is Symbol and what.name in TOPICS and not w.env.is_bound(what):
            what = Keyword(what.name)       # `world inspect lineages` means the topic
        if type(what) in (Symbol, Keyword):
            m = inspect(w, what)
        else:
            m = w.eval(f"(inspect {args.what})", source="<inspect>")
        from . import inspect_view, render      # prompt_toolkit: only when a tree is drawn
        return _emit(args, m, render.plain(inspect_view.tree(m)))


def cmd_snapshots(args: argparse.Namespace) -> int:
    """`world snapshots`: the saved snapshots, oldest first."""
    with open_world(args) as w:
        snaps = w.snapshots()
        if args.json:
            json.dump(snaps, sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
            return EXIT_OK
        if not snaps:
            print("no snapshots")
        for s in snaps:
            note = f"  {s['note']}" if s["note"] else ""
            print(f"{s['name']}  {s['time']}  {s['definitions']} definitions{note}")
        return EXIT_OK


def cmd_save(args: argparse.Namespace) -> int:
    """`world save NAME`: record a named snapshot."""
    with open_world(args) as w:
        s = w.save(args.name, args.note)
        if args.json:
            json.dump(s, sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
        else:
            print(f"saved snapshot {s['name']} ({s['definitions']} definitions) at {s['time']}")
        return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """`world restore NAME`: make the world equal to a snapshot."""
    with open_world(args) as w:
        n = w.restore(args.name)
        if args.json:
            json.dump({"name": args.name, "changed": n}, sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
        else:
            print(f"restored snapshot {args.name} ({n} names set)")
        return EXIT_OK


def register(sub: Any) -> None:
    """Add the world commands to the `world` command's subparsers."""
    p = sub.add_parser("inspect", help="describe a name, :world, :snapshots, :history, ...")
    p.add_argument("what", help="a name, a :topic, or an expression")
    p.set_defaults(func=cmd_inspect)
    p = sub.add_parser("snapshots", help="list the saved snapshots")
    p.set_defaults(func=cmd_snapshots)
    p = sub.add_parser("save", help="record a named snapshot of the world")
    p.add_argument("name")
    p.add_argument("--note", default="", help="a note kept with the snapshot")
    p.set_defaults(func=cmd_save)
    p = sub.add_parser("restore", help="make the world equal to a snapshot")
    p.add_argument("name")
    p.set_defaults(func=cmd_restore)
    for name in ("inspect", "snapshots", "save", "restore"):
        parser = sub.choices[name]
        add_world_args(parser)
        add_json_arg(parser)
