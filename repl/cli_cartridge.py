"""`world cartridge run|resume|inspect|sign`: paused evaluations as `.lispy.json` files.

A cartridge program runs in a fresh environment granted core, output,
cartridge and simulate (never the image), so the cartridge is self-contained;
see world/peer/cartridge.py. `world run FILE --pause-at N` is `world cartridge
run FILE --pause-at N`. Output goes to stdout as a program's would; where a
cartridge was written goes to stderr, so the stdout of a run that paused
followed by that of its resume is the stdout of one uninterrupted run.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from .cli_common import EXIT_OK, CommandError, UsageError, add_json_arg, out

_ABRIDGED = 240         # characters of program text `inspect` shows


def _read_program(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise CommandError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"cannot read {path}: it is not UTF-8 text") from None


def _limits(args: argparse.Namespace) -> Any:
    from world.lisp.budget import DEFAULT_LIMITS
    steps = getattr(args, "steps", None)
    if steps is None:
        return DEFAULT_LIMITS
    if steps < 1:
        raise UsageError(f"--steps must be at least 1, not {steps}")
    return DEFAULT_LIMITS.narrow(steps=steps)


def _signer(args: argparse.Namespace) -> Any:
    if not getattr(args, "sign", False):
        return None
    from world import keys
    from .cli_keys import keys_call
    return keys_call(keys.signer)


def _stem(path: str) -> str:
    from world.peer.cartridge import SUFFIX
    for end in (SUFFIX, ".lisp", ".scm", ".lsp"):
        if path.endswith(end) and len(path) > len(end):
            return path[:-len(end)]
    return path


def _end_line(text: str) -> None:
    """On a terminal, end a half-printed line before a message on stderr (never on stdout,
    whose text must be exactly the program's)."""
    try:
        if text and not text.endswith("\n") and sys.stdout.isatty():
            sys.stderr.write("\n")
    except (ValueError, OSError):
        pass


def _finish(leg: Any, dest: str, before: str = "") -> int:
    """Print a leg's new output, then its value (on a line of its own), or write the
    cartridge it paused in; `before` is the output delivered by earlier legs."""
    from world.lisp.printer import write
    from world.lisp.types import VOID
    out(leg.output)
    if leg.paused is not None:
        leg.paused.write(dest)
        _end_line(before + leg.output)
        signed = " (signed)" if leg.paused.key is not None else ""
        print(f"paused at step {leg.paused.step}: wrote {dest}{signed}; finish it with "
              f"`world cartridge resume {dest}`", file=sys.stderr)
    elif leg.value is not VOID:
        ends = (before + leg.output)[-1:]
        out(("\n" if ends not in ("", "\n") else "") + write(leg.value) + "\n")
    return EXIT_OK


def _guarded(go: Any, printed: list[str]) -> Any:
    """`go()`; if the program fails, print the output it produced first."""
    from world.lisp.errors import LispError
    try:
        return go()
    except LispError:
        out("".join(printed))
        _end_line("".join(printed))
        raise


def cmd_run(args: argparse.Namespace) -> int:
    """`world cartridge run FILE [--pause-at N] [--cartridge OUT]` (and `world run --pause-at`)."""
    from world.peer import cartridge
    from world.peer.cartridge import check_path
    text = _read_program(args.file)
    dest = check_path(args.cartridge or _stem(args.file) + cartridge.SUFFIX)
    if dest == args.file:
        raise UsageError(f"the cartridge would overwrite {args.file}: name another with --cartridge")
    if args.pause_at is not None and args.pause_at < 1:
        raise UsageError(f"--pause-at must be at least 1, not {args.pause_at}")
    printed: list[str] = []
    leg = _guarded(lambda: cartridge.run(text, _limits(args), args.pause_at, _signer(args),
                                         out=printed), printed)
    return _finish(leg, dest)


def _caps(args: argparse.Namespace) -> tuple[str, ...] | None:
    if args.caps is None:
        return None
    from world.lisp.errors import SandboxError
    from world.lisp.primitives import names_of
    caps = tuple(c.strip() for c in args.caps.split(",") if c.strip())
    try:
        names_of(caps)
    except SandboxError as e:
        raise UsageError(f"--caps: {e.message}") from None
    return caps


def _load(args: argparse.Namespace, verify: bool = True) -> Any:
    from world.peer import cartridge
    cart = cartridge.load(args.file, verify=verify)
    want = getattr(args, "require_signed", None)
    if want is not None:
        from world.keys import SigningKeyError, normal_public_key
        try:
            want = normal_public_key(want)
        except SigningKeyError as e:
            raise UsageError(f"--require-signed: {e}") from None
        if cart.key is None:
            raise cartridge.refuse(f"{args.file} is not signed (--require-signed {want[:16]}...)")
        if cart.key != want:
            raise cartridge.refuse(f"{args.file} is signed by {cart.key[:16]}..., "
                                   f"not by {want[:16]}...")
    return cart


def cmd_resume(args: argparse.Namespace) -> int:
    """`world cartridge resume FILE`: finish (or pause again) a paused evaluation."""
    from world.peer import cartridge
    cart = _load(args)
    caps = _caps(args)
    if args.pause_at is not None and args.pause_at <= cart.step:
        raise UsageError(f"--pause-at must be after the cartridge's step {cart.step}")
    if args.out is not None and args.pause_at is None:
        raise UsageError("resume: --out goes with --pause-at N")
    dest = cartridge.check_path(args.out or f"{_stem(args.file)}.{args.pause_at or 0}"
                                            f"{cartridge.SUFFIX}")
    printed: list[str] = []
    leg = _guarded(lambda: cartridge.resume(cart, caps, _limits(args), args.pause_at,
                                            _signer(args), out=printed), printed)
    return _finish(leg, dest, cart.output)


def _definitions(text: str, depth: int) -> list[str] | str:
    """The names the program's top-level forms define, or why its text does not read."""
    from world.lisp.errors import LispError
    from world.lisp.reader import read_all
    from world.lisp.types import Pair, Symbol
    try:
        forms = read_all(text, max_depth=depth)
    except LispError as e:
        return f"(the program does not read: {e})"
    except RecursionError:
        return "(the program does not read: nested too deeply)"
    names = []
    for f in forms:
        if type(f) is Pair and type(f.car) is Symbol and f.car.name.startswith("define") \
                and type(f.cdr) is Pair:
            target = f.cdr.car
            while type(target) is Pair:         # (define (f x) ...), curried (define ((f a) b) ...)
                target = target.car
            if type(target) is Symbol:
                names.append(target.name)
    return names


def cmd_inspect(args: argparse.Namespace) -> int:
    """`world cartridge inspect FILE [--json]`: what a cartridge holds, without running it."""
    cart = _load(args, verify=False)
    s = cart.susp
    defs = _definitions(s.text, s.limits.read_depth)
    env = [g["name"] for g in s.environment["globals"]]
    status = cart.status()
    info = {"format": "world-cartridge/1", "program": s.text, "definitions": defs,
            "environment": env, "step": s.step, "delivered": len(cart.output),
            "output": cart.output, "limits": dataclasses.asdict(s.limits),
            "capabilities": list(s.caps),
            "signature": {"status": status, "key": cart.key}}
    if args.json:
        out(json.dumps(info, indent=1, ensure_ascii=True) + "\n")
        return EXIT_OK
    program = " ".join(s.text.split())
    if len(program) > _ABRIDGED:
        program = program[:_ABRIDGED] + f"... ({len(s.text)} characters)"
    lines = [
        f"format        {info['format']}",
        f"program       {program}",
        "definitions   " + (defs if isinstance(defs, str) else ", ".join(defs) or "(none)"),
        f"environment   {', '.join(env) or '(fresh: nothing defined before the program)'}",
        f"step          {s.step} (steps used before the pause)",
        f"delivered     {len(cart.output)} characters: {json.dumps(cart.output[-80:])}",
        "limits        " + ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                                     for k, v in info["limits"].items()),
        f"capabilities  {', '.join(s.caps)} (a resume grants only those its caller grants too)",
        f"signature     {status}" + (f", key {cart.key}" if cart.key else ""),
    ]
    out("\n".join(lines) + "\n")
    return EXIT_OK


def cmd_sign(args: argparse.Namespace) -> int:
    """`world cartridge sign FILE [--out F]`: sign a cartridge with your key."""
    cart = _load(args, verify=False)
    from world import keys
    from .cli_keys import keys_call
    dest = args.out or args.file
    cart.signed(keys_call(keys.signer)).write(dest)
    out(f"signed {dest} with {keys_call(keys.public_key)}\n")
    return EXIT_OK


def add_run_flags(p: argparse.ArgumentParser, pause_help: str) -> None:
    """--pause-at N, --cartridge OUT, --sign: shared by `world run` and `world cartridge run`."""
    p.add_argument("--pause-at", type=int, default=None, metavar="N", help=pause_help)
    p.add_argument("--cartridge", default=None, metavar="OUT",
                   help="where to write the cartridge (default: FILE's stem + .lispy.json)")
    p.add_argument("--sign", action="store_true", help="sign the cartridge with your key "
                                                       "(`world keys init`)")


def register(sub: Any) -> None:
    """Add `cartridge`."""
    p = sub.add_parser("cartridge", help="paused evaluations as .lispy.json files: run, resume, "
                                         "inspect, sign")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    r = verbs.add_parser("run", help="run a file's forms in a FRESH environment (core, output, "
                                     "cartridge, simulate; not the image), maybe pausing")
    r.add_argument("file")
    add_run_flags(r, "pause at step N and write a cartridge")
    r.add_argument("--steps", type=int, default=None, metavar="N", help="step budget per form")
    r.set_defaults(func=cmd_run)

    s = verbs.add_parser("resume", help="finish a cartridge: the rest of its output and its value")
    s.add_argument("file")
    s.add_argument("--pause-at", type=int, default=None, metavar="N",
                   help="pause again at step N (after the cartridge's) and write a new cartridge")
    s.add_argument("--out", default=None, metavar="F",
                   help="where --pause-at writes (default: FILE's stem + .N.lispy.json)")
    s.add_argument("--steps", type=int, default=None, metavar="N",
                   help="step budget per form (never more than the cartridge's)")
    s.add_argument("--caps", default=None, metavar="G,G",
                   help="groups to grant, at most the cartridge's (default: core,output; "
                        "add cartridge to let it save again)")
    s.add_argument("--require-signed", default=None, metavar="KEY",
                   help="refuse a cartridge not signed by this public key")
    s.add_argument("--sign", action="store_true", help="sign a new cartridge with your key")
    s.set_defaults(func=cmd_resume)

    i = verbs.add_parser("inspect", help="show a cartridge's program, step, output, limits, "
                                         "capabilities and signature")
    i.add_argument("file")
    add_json_arg(i)
    i.set_defaults(func=cmd_inspect)

    g = verbs.add_parser("sign", help="sign a cartridge with your key")
    g.add_argument("file")
    g.add_argument("--out", default=None, metavar="F", help="write here (default: in place)")
    g.set_defaults(func=cmd_sign)
