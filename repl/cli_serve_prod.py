"""`world serve-prod IMAGE --hub wss://HOST:PORT --tls DIR --token-file F`: run a production
image's program, with the hot-fix channel to the development hub (world/hotfix/prod.py).

The program is `--program FILE`'s forms (default `(main)`), run every `--every`
seconds, each run's value printed as `[run N] VALUE`. `world serve-prod --log IMAGE`
prints the image's hot-fix log instead.
"""
from __future__ import annotations

import argparse
import signal
from typing import Any

from world.history.record import PRODUCTION
from world.hotfix import hotlog, prod, protocol
from world.keys import SigningKeyError, normal_public_key
from world.objects.tls import client_context

from .cli_common import EXIT_OK, CommandError, UsageError, out


def _say(line: str) -> None:
    out(line + "\n")


def _open(path: str) -> Any:
    import os

    import world
    if not os.path.isfile(path):
        raise CommandError(f"serve-prod: {path}: no such image (make one with `world build-prod`)")
    w = world.open(path, out=out)
    if not w.image.root.settings.get(PRODUCTION):
        w.close()
        raise CommandError(f"serve-prod: {path} is not a production image: build one with "
                           f"`world build-prod`")
    return w


def cmd_log(args: argparse.Namespace) -> int:
    """Print the image's hot-fix log, oldest first."""
    w = _open(args.image)
    try:
        found = hotlog.entries(w.image.root.settings)
        for e in found:
            _say(e.line())
        if not found:
            _say("no hot-fixes yet")
    finally:
        w.close()
    return EXIT_OK


def cmd_serve_prod(args: argparse.Namespace) -> int:
    """Open the production image, run its program, keep the channel to the hub."""
    if args.log:
        return cmd_log(args)
    if args.hub is None or args.tls is None or args.token_file is None:
        raise UsageError("serve-prod: --hub wss://HOST:PORT, --tls DIR and --token-file F "
                         "are required (or --log IMAGE)")
    if args.idle <= 0 or args.every <= 0:
        raise UsageError("serve-prod: --idle and --every must be positive")
    prod.check_hub(args.hub, args.tls)
    token = prod.read_token(args.token_file)
    ctx = client_context(args.tls)
    program = prod.MAIN
    if args.program is not None:
        try:
            with open(args.program, encoding="utf-8") as f:
                program = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise CommandError(f"serve-prod: --program {args.program}: "
                               f"{getattr(e, 'strerror', None) or e}") from None
    w = _open(args.image)
    try:
        if args.trust_hub:
            try:
                key = normal_public_key(args.trust_hub)
            except SigningKeyError as e:
                raise UsageError(f"serve-prod: --trust-hub: {e}") from None
            w._change(lambda: hotlog.trust(w.image.root.settings, key, "hub"),
                      "hotfix: trust a hub key")
        root = w.image.root
        channel = prod.Channel(args.hub, ctx, token, prod.production_signer(),
                               lambda: {"image": root.uid, "head": prod.head_of(root)},
                               prod.queue.Queue(), args.idle, _say)
        runner = prod.Runner(w, channel, program, args.every, _say)
        prod.CURRENT = runner

        def stop(*_: Any) -> None:
            runner.stopping = True
        before = signal.signal(signal.SIGTERM, stop)
        _say(f"[hotfix] serving {args.image}: program every {args.every:g} s, hub {args.hub}, "
             f"idle close after {args.idle:g} s")
        try:
            runner.loop(args.runs)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, before)
            prod.CURRENT = None
            channel.close()
    finally:
        w.close()
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add `serve-prod`."""
    p = sub.add_parser("serve-prod", help="run a production image's program, with the hot-fix "
                       "channel to the development hub")
    p.add_argument("image", help="a production image (from `world build-prod`)")
    p.add_argument("--hub", metavar="wss://HOST:PORT", help="the development hub (`world hub`)")
    p.add_argument("--tls", metavar="DIR", help="the certificates (`world tls-init DIR`): "
                   "client.pem, client.key and ca.pem")
    p.add_argument("--token-file", metavar="F", help="a file (mode 600) holding the hub's token")
    p.add_argument("--idle", type=float, default=protocol.IDLE_SECONDS, metavar="S",
                   help=f"close the channel after S seconds with no frame (default "
                        f"{protocol.IDLE_SECONDS:g})")
    p.add_argument("--program", metavar="FILE", help="forms to run each time (default: (main))")
    p.add_argument("--every", type=float, default=1.0, metavar="S",
                   help="seconds between runs of the program (default 1)")
    p.add_argument("--runs", type=int, default=None, metavar="N",
                   help="stop after N runs (default: run until stopped)")
    p.add_argument("--trust-hub", metavar="KEY", help="from now on, apply fixes only from the "
                   "hub with this public key (recorded in the image)")
    p.add_argument("--log", action="store_true", help="print the image's hot-fix log and exit")
    p.set_defaults(func=cmd_serve_prod)


__all__ = ["cmd_serve_prod", "register"]
