"""`world history`, `commit`, `rebuild`, `build-prod`, `dump` and `audit`:
history and audit from the command line, as text. The library does the
work and never prints; long rebuilds show a progress bar on a terminal.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from typing import Any, Callable, Iterator

from .cli_common import CommandError, add_world_args, open_world


def register(sub: Any) -> None:
    """Add this module's subcommands to the `world` parser's subparsers."""
    h = sub.add_parser("history", help="the world's history: log, show, diff, verify, pending, milestones")
    h.add_argument("what", nargs="?", default="log",
                   choices=("log", "show", "diff", "verify", "pending", "milestones"))
    h.add_argument("arg", nargs="?", help="log: a definition's name; show: a commit id or number; "
                                          "diff: a definition's name")
    h.add_argument("-n", type=int, default=None, help="log: at most N commits")
    h.add_argument("--signed", action="store_true",
                   help="verify: also require the newest human commit signed by a trusted key")
    h.add_argument("--key", action="append", metavar="PUBKEY",
                   help="verify --signed: trust this public key (repeatable) instead of the "
                        "world's own list, which whoever can write the image can edit")
    h.add_argument("--json", action="store_true", help="verify: the findings as JSON")
    add_world_args(h)
    h.set_defaults(func=cmd_history)

    c = sub.add_parser("commit", help="group pending atomic commits under a message")
    c.add_argument("message")
    c.add_argument("symbols", nargs="*", help="only the latest pending commits of these")
    c.add_argument("--sign", action="store_true",
                   help="sign the commit with your key (`world keys init` makes one)")
    add_world_args(c)
    c.set_defaults(func=cmd_commit)

    r = sub.add_parser("rebuild", help="replay a world's history into a new image")
    r.add_argument("--from", dest="history", choices=("atomic", "human"), default="atomic")
    r.add_argument("source")
    r.add_argument("dest")
    r.add_argument("--force", action="store_true",
                   help="build even if the source does not verify (recorded in the new image)")
    r.set_defaults(func=cmd_rebuild)

    b = sub.add_parser("build-prod", help="a production image from human history (no history, no audit)")
    b.add_argument("source")
    b.add_argument("dest")
    b.add_argument("--force", action="store_true",
                   help="build even if the source does not verify (recorded in the new image)")
    b.set_defaults(func=cmd_build_prod)

    d = sub.add_parser("dump", help="write the latest definitions as .lisp files")
    d.add_argument("source")
    d.add_argument("dir")
    d.add_argument("--by-kind", action="store_true", help="one file per kind of definition")
    d.set_defaults(func=cmd_dump)

    a = sub.add_parser("audit", help="audit report, recorded checks, rules")
    a.add_argument("what", nargs="?", choices=("report", "run", "rules"), default="report")
    add_world_args(a)
    a.set_defaults(func=cmd_audit)


# ---------------------------------------------------------------- history

def _line(d: dict[str, Any]) -> str:
    flags = " pending" if d["pending"] else ""
    bad = f"  ({d['violations']} findings)" if d["violations"] else ""
    return f"{d['seq']:>6} {d['id']} {d['time']} {d['kind']:<13} {d['symbol']}{flags}{bad}"


def cmd_history(args: argparse.Namespace) -> int:
    """`world history ...`."""
    from world.history import views
    from world.history.record import history_of
    what = args.what
    if what in ("show", "diff") and not args.arg:
        raise CommandError(f"history {what}: give a {'commit id' if what == 'show' else 'name'}")
    with open_world(args) as w:
        hist = history_of(w)
        if hist is None and what == "verify":
            return _verify_built(w, args)
        if hist is None:
            raise CommandError("this is a production image: it keeps no history")
        if what == "log":
            for d in views.log(hist, args.arg, args.n):
                print(_line(d))
        elif what == "show":
            key = args.arg
            c = hist.find(int(key) if key.isdigit() else key)
            if c is None:
                raise CommandError(f"no atomic commit {key}")
            d = views.details(c, c.seq in hist.pending)
            for k in ("id", "seq", "kind", "symbol", "time", "hash", "parent", "doc"):
                print(f"{k + ':':<8} {d[k] if d[k] is not None else ''}")
            for v in c.violations:
                print(f"finding: {v[2]} {v[1]} {v[0]}: {v[3]}")
            print()
            print(c.typed)
        elif what == "diff":
            if hist.latest(args.arg) is None:
                raise CommandError(f"{args.arg} has no history")
            sys.stdout.write(views.diff(hist, args.arg))
        elif what == "verify":
            return _verify(w, hist, args)
        elif what == "pending":
            for d in views.pending(hist):
                print(_line(d))
        elif what == "milestones":
            for h in hist.humans.values():
                d = views.human(h)
                print(f"{d['number']:>4} {d['id']} {d['time']} {d['author']}: {d['message']} "
                      f"({len(d['atomic'])} atomic)" + (f", signed by {h.key}" if h.key else ""))
    return 0


def _verify(w: Any, hist: Any, args: argparse.Namespace) -> int:
    """`world history verify [--signed] [--json]`: one line per finding."""
    import json
    from world.history import views
    keys = None
    if args.key:
        from world.keys import normal_public_key
        from .cli_keys import keys_call
        keys = [keys_call(lambda k=k: normal_public_key(k)) for k in args.key]
    # nothing is uncommitted here, so another process may read the same file (see findings)
    found = views.findings(w.image.root, signed=args.signed or keys is not None, keys=keys,
                           image=w.image.path)
    if args.json:
        print(json.dumps({"ok": not found, "atomic": hist.count, "human": hist.humans_count,
                          "definitions": len(w.names.defs) + len(w.names.macros),
                          "findings": [f.as_dict() for f in found]}, indent=1))
    else:
        for f in found:
            print(f.line())
        if not found:
            print(f"ok: {hist.count} atomic commits, {hist.humans_count} human commits and "
                  f"{len(w.names.defs) + len(w.names.macros)} definitions verified"
                  + (", signed" if args.signed or keys is not None else ""))
    return 1 if found else 0


def cmd_commit(args: argparse.Namespace) -> int:
    """`world commit MESSAGE [SYMBOL...] [--sign]`."""
    from world.history.record import commit
    signer = None
    if args.sign:           # before opening the world: a missing key changes nothing
        from world.keys import signer as user_signer
        from .cli_keys import keys_call
        signer = keys_call(user_signer)
    with open_world(args) as w:
        h = w._change(lambda: commit(w, args.message, args.symbols or None, signer),
                      f"world: commit {args.message}")
        print(f"{h.id}: {h.message} ({len(h.seqs)} atomic commits)"
              + (f", signed by {h.key}" if h.key else ""))
    return 0


# ---------------------------------------------------------------- images

@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback: a prompt_toolkit bar on a terminal, else nothing."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from prompt_toolkit.shortcuts import ProgressBar
    with ProgressBar(title=label) as pb:
        counter = None

        def update(done: int, total: int) -> None:
            nonlocal counter
            if counter is None:
                counter = pb(label="forms", total=total)
            counter.items_completed = done
            pb.invalidate()
        yield update


def _open_source(path: str) -> Any:
    import world
    return world.open(path, read_only=True)


def _verify_built(w: Any, args: argparse.Namespace) -> int:
    """`world history verify` on a production image: its definitions against the manifest
    of its build (see world/history/provenance.py)."""
    import json
    from world.history import views
    if args.signed or args.key:
        raise CommandError("history verify --signed: a production image keeps no history to be "
                           "signed: verify its source image with --signed")
    found = views.findings(w.image.root)
    count = len(w.names.defs) + len(w.names.macros)
    if args.json:
        print(json.dumps({"ok": not found, "production": True, "definitions": count,
                          "findings": [f.as_dict() for f in found]}, indent=1))
        return 1 if found else 0
    for f in found:
        print(f.line())
    if not found:
        print(f"ok: production image, {count} definitions match the manifest of its build")
    return 1 if found else 0


def _report(r: Any, what: str) -> int:
    # The process ends after this: spare it one collection over every object the rebuild
    # made while the collector was paused (seconds at 100 000 definitions).
    gc.freeze()
    print(f"{what}: {r.replayed} forms replayed, {r.definitions} definitions, {r.seconds:.2f} s -> {r.dest}")
    for line in r.forced:
        print(f"forced over: {line}")
    for sym, recorded, got in r.mismatches:
        print(f"mismatch: {sym}: replay made {got or 'nothing'}, not what {recorded} recorded")
    for sym, msg in r.errors:
        print(f"error: {sym}: {msg}")
    if r.checks:
        print(f"checks: {len(r.checks) - len(r.failed_checks)} passed, {len(r.failed_checks)} failed")
    for o in r.failed_checks:
        print(f"check failed: {o.expr_src} expected {o.expected_src}"
              + (f": {o.error}" if o.error else ""))
    return 0 if r.ok else 1


def cmd_rebuild(args: argparse.Namespace) -> int:
    """`world rebuild --from atomic|human SOURCE DEST [--force]`."""
    from world.build import rebuild
    with _open_source(args.source) as w, progress(f"rebuilding from {args.history} history") as cb:
        r = rebuild(w, args.dest, args.history, progress=cb, force=args.force)
    return _report(r, f"rebuilt from {args.history} history")


def cmd_build_prod(args: argparse.Namespace) -> int:
    """`world build-prod SOURCE DEST [--force]`."""
    from world.build import build_prod
    with _open_source(args.source) as w, progress("building a production image") as cb:
        r = build_prod(w, args.dest, progress=cb, force=args.force)
    code = _report(r, "production image")
    ratio = r.size / r.source_size if r.source_size else 0.0
    print(f"size: production {r.size} bytes, development {r.source_size} bytes ({ratio:.1%})")
    return code


def cmd_dump(args: argparse.Namespace) -> int:
    """`world dump SOURCE DIR [--by-kind]`."""
    from world.history.dump import dump
    with _open_source(args.source) as w:
        for path in dump(w, args.dir, args.by_kind):
            print(path)
    return 0


# ---------------------------------------------------------------- audit

def cmd_audit(args: argparse.Namespace) -> int:
    """`world audit [report|run|rules]`."""
    from world.audit.checks import run_checks
    from world.audit.report import summary
    from world.history.record import audit_of
    with open_world(args) as w:
        store = audit_of(w)
        if args.what == "rules":
            for r in (store.rules.values() if store is not None else ()):
                print(f"{r.name:<20} {r.category:<16} {r.severity:<8} {r.message}")
            return 0
        if args.what == "run":
            if store is None:
                return 0
            from world.history.rebuild import _dry
            rep = _dry(w, lambda: run_checks(w, store.checks))
            for name, (p, f) in rep.by_definition().items():
                print(f"{name:<24} {p} passed, {f} failed")
            for o in rep.failed:
                print(f"failed: {o.expr_src} expected {o.expected_src}" + (f": {o.error}" if o.error else ""))
            return 1 if rep.failed else 0
        s = summary(w)
        print(f"{s['violations']} findings over {s['definitions']} definitions")
        for k, v in s["by-severity"].items():
            print(f"  severity {k}: {v}")
        for k, v in s["by-category"].items():
            print(f"  category {k}: {v}")
        for name, n in s["worst"]:
            print(f"  {name}: {n}")
    return 0
