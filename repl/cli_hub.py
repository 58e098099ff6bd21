"""`world hub`: the development side of the hot-fix channel (world/hotfix/hub.py).

    world hub --world dev.fs --listen 127.0.0.1:PORT --tls DIR [--token-file F] [--idle S]
    world hub --zeo HOST:PORT [--zeo-tls DIR] --listen ... --tls DIR

It serves production's connections over TLS until Ctrl-C or SIGTERM, keeping
their reports in the development world, which REPLs share through ZEO
(`world serve`) to read them with (hotfix/pending) and answer them with
(hotfix/accept ID). It prints one `hub listening on ... key ...` line once it
listens. `--token-file F` keeps the SHA-256 of F's token in the world
(replacing any); production then presents the token, or a client
certificate from DIR's authority.
"""
from __future__ import annotations

import argparse
import os
from typing import Any

from .cli_common import EXIT_OK, CommandError, image_path, open_world, out
from .cli_keys import keys_call

DEFAULT_LISTEN = "127.0.0.1:8300"
MAX_TOKEN_FILE = 4096
MIN_TOKEN = 12


def read_token(path: str) -> str:
    """The token in file `path`: one line of at least MIN_TOKEN characters."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_TOKEN_FILE + 1)
    except OSError as e:
        raise CommandError(f"cannot read the token file {path}: {e.strerror or e}") from None
    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError(f"the token file {path} is not UTF-8 text") from None
    if len(data) > MAX_TOKEN_FILE or "\n" in token or len(token) < MIN_TOKEN:
        raise CommandError(f"the token file {path} must hold one line of {MIN_TOKEN} to "
                           f"{MAX_TOKEN_FILE} characters")
    return token


def cmd_hub(args: argparse.Namespace) -> int:
    """Serve the hot-fix hub until interrupted."""
    from world import keys
    from world.hotfix.hub import Hub, serve
    from .cli_peer import listen_address
    host, port = listen_address(args.listen)
    if not os.path.isdir(args.tls):
        raise CommandError(f"--tls {args.tls} is not a directory: make the certificates with "
                           f"`world tls-init {args.tls}`")
    token = read_token(args.token_file) if args.token_file else None
    signer = keys_call(keys.signer)
    where = argparse.Namespace(world=args.world, zeo=args.zeo, memory=args.memory,
                               tls=args.zeo_tls, zeo_timeout=None, read_only=False)
    with open_world(where) as w:
        hub = Hub(w, signer, say=lambda line: out(line + "\n"))
        try:
            hub.pool.submit(hub.start, token).result()
            source = f"zeo {args.zeo}" if args.zeo else image_path(args)

            def ready(address: str) -> None:
                out(f"hub listening on {address} for {source} key {hub.public} "
                    f"(Ctrl-C stops)\n")
            serve(hub, host, port, args.tls, idle=args.idle, ready=ready)
        finally:
            hub.close()
    return EXIT_OK


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = 0.0
    if not 0 < v <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds, above 0 and at most 86400")
    return v


def register(sub: Any) -> None:
    """Add `hub`."""
    from world.hotfix.protocol import IDLE_SECONDS
    p = sub.add_parser("hub", help="the development side of the hot-fix channel: keep "
                                   "production's error reports, send accepted fixes")
    p.add_argument("--listen", metavar="HOST:PORT", default=DEFAULT_LISTEN,
                   help=f"where to listen (default: {DEFAULT_LISTEN}; port 0: any free one)")
    p.add_argument("--tls", metavar="DIR", required=True,
                   help="serve wss:// with DIR/server.pem; a client certificate must be "
                        "signed by DIR/ca.pem (`world tls-init DIR`)")
    p.add_argument("--token-file", metavar="F", help="keep the SHA-256 of F's token in the "
                   "world (replacing any): production presents it in its hello")
    p.add_argument("--idle", type=_seconds, default=IDLE_SECONDS, metavar="S",
                   help=f"close a channel idle for S seconds (default: {IDLE_SECONDS:g})")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--world", metavar="PATH",
                       help="the development image (default: $WORLD_IMAGE, else images/world.fs)")
    where.add_argument("--zeo", metavar="HOST:PORT", help="the development world served at "
                       "HOST:PORT (`world serve`), shared with your REPLs")
    where.add_argument("--memory", action="store_true", help="a fresh world that is not saved")
    p.add_argument("--zeo-tls", metavar="DIR", help="with --zeo: reach the ZEO server over TLS "
                   "with DIR's client certificate")
    p.set_defaults(func=cmd_hub)


__all__ = ["read_token", "register"]
