"""`world tls-init DIR`: the certificates for ZEO over TLS (world/objects/tls.py)."""
from __future__ import annotations

import argparse

from world.objects.tls import init

from .cli_common import EXIT_OK, out


def cmd_tls_init(args: argparse.Namespace) -> int:
    """Write a CA, a server and a client certificate into DIR; list the files."""
    for path in init(args.dir, args.host or ()):
        out(path + "\n")
    out(f"serve with `world serve --tls {args.dir}`; connect with `--zeo HOST:PORT "
        f"--tls {args.dir}` (copy client.pem, client.key and ca.pem to each client)\n")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add `tls-init`."""
    p = sub.add_parser("tls-init", help="write a CA, a server and a client certificate for "
                       "ZEO over TLS")
    p.add_argument("dir", help="a new or empty directory for the certificates and keys")
    p.add_argument("--host", action="append", metavar="NAME",
                   help="another host name or address the server certificate names "
                        "(besides 127.0.0.1, localhost and ::1); repeatable")
    p.set_defaults(func=cmd_tls_init)
