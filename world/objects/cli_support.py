"""What the command line needs to choose a world: flags, defaults, opening.

The image is `--world PATH`, else `$WORLD_IMAGE`, else `images/world.fs`
under the current directory; `--zeo HOST:PORT` connects to a server instead,
`--relstorage DSN` to a PostgreSQL database through RelStorage, and
`--memory` gives a world that is not saved; `--tls DIR` makes `--zeo`
(and `world serve`) use TLS with client certificates. `world serve` serves an
image over ZEO. Nothing here prints: the CLI gets data and errors back.
"""
from __future__ import annotations

import argparse
import os
from typing import Any, Callable

from ..lisp.budget import DEFAULT_LIMITS, Limits
from .server import DEFAULT_ADDRESS, serve

DEFAULT_IMAGE = os.path.join("images", "world.fs")
ENV_VAR = "WORLD_IMAGE"


def add_world_args(parser: argparse.ArgumentParser) -> None:
    """Add --world, --zeo, --relstorage, --memory, --read-only and --tls to a (sub)command's parser."""
    group = parser.add_argument_group("world image")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--world", metavar="PATH",
                       help=f"the image file (default: ${ENV_VAR}, else {DEFAULT_IMAGE})")
    where.add_argument("--zeo", metavar="HOST:PORT", help="use the world served at HOST:PORT")
    where.add_argument("--relstorage", metavar="DSN",
                       help="use the world in a PostgreSQL database (RelStorage), e.g. "
                            "'dbname=world host=db.example user=world'")
    where.add_argument("--memory", action="store_true", help="a fresh world that is not saved")
    group.add_argument("--read-only", action="store_true", help="open the world without changing it")
    group.add_argument("--tls", metavar="DIR", help="with --zeo: connect over TLS with the client "
                       "certificate in DIR (made by `world tls-init DIR`)")
    group.add_argument("--zeo-timeout", type=_seconds, metavar="SECONDS",
                       help="with --zeo: how long a form waits for a lost server before it "
                            "fails (default: 10)")


def _seconds(text: str) -> float:
    """A positive number of seconds, for argparse."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text!r}")
    return value


def image_path(args: argparse.Namespace | None = None) -> str:
    """The image path the arguments and the environment ask for."""
    given = getattr(args, "world", None) if args is not None else None
    return given or os.environ.get(ENV_VAR) or DEFAULT_IMAGE


def open_from_args(args: argparse.Namespace, out: Callable[[str], Any] | None = None,
                   limits: Limits = DEFAULT_LIMITS) -> Any:
    """Open the world that parsed `add_world_args` flags ask for."""
    import world
    read_only = bool(getattr(args, "read_only", False))
    tls = getattr(args, "tls", None)
    if tls and not getattr(args, "zeo", None):
        from .errors import ImageError
        raise ImageError("--tls DIR is for a world served over ZEO: give --zeo HOST:PORT too")
    zeo_timeout = getattr(args, "zeo_timeout", None)
    if zeo_timeout is not None and not getattr(args, "zeo", None):
        from .errors import ImageError
        raise ImageError("--zeo-timeout is for a world served over ZEO: give --zeo HOST:PORT too")
    if getattr(args, "memory", False):
        return world.open(limits=limits, out=out)
    if getattr(args, "zeo", None):
        return world.open(zeo=args.zeo, limits=limits, out=out, read_only=read_only, tls=tls,
                          zeo_timeout=zeo_timeout)
    if getattr(args, "relstorage", None):
        return world.open(relstorage=args.relstorage, limits=limits, out=out, read_only=read_only)
    return world.open(image_path(args), limits=limits, out=out, read_only=read_only)


def add_serve_args(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `world serve`: --world PATH, --address HOST:PORT and --tls DIR."""
    parser.add_argument("--world", metavar="PATH",
                        help=f"the image to serve (default: ${ENV_VAR}, else {DEFAULT_IMAGE})")
    parser.add_argument("--address", metavar="HOST:PORT", default=DEFAULT_ADDRESS,
                        help=f"where to listen (default: {DEFAULT_ADDRESS}); an address beyond "
                             f"loopback needs --tls")
    parser.add_argument("--tls", metavar="DIR", help="serve over TLS with DIR/server.pem, accepting "
                        "only clients whose certificate DIR/ca.pem signed (`world tls-init DIR`)")


def serve_from_args(args: argparse.Namespace, ready: Callable[[str], Any] | None = None) -> int:
    """Run `world serve` until interrupted; `ready` gets the address once listening."""
    serve(image_path(args), args.address, ready=ready, tls=getattr(args, "tls", None))
    return 0
