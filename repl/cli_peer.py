"""`world peer serve`, `send` and `trust`: a world's peer endpoint over WebSockets.

    world peer serve --address 127.0.0.1:PORT [--tls DIR] [--world PATH]
    world peer send ADDRESS FILE [--steps N] [--caps core,output] [--tls DIR] [--timeout S]
    world peer trust PUBKEY --name bob [--caps core] [--steps N ...] [--world PATH]

`serve` answers signed programs from the keys the world trusts
(`(peer/trust ...)`) until Ctrl-C or SIGTERM, printing one `serving ...`
line once it listens; `send` signs FILE's forms (several are sent as one
`begin`) with your key and prints the value the peer returns; `trust` is
`(peer/trust ...)` from the command line.
"""
from __future__ import annotations

import argparse
from typing import Any, Callable

from .cli_common import EXIT_OK, CommandError, image_path, open_world, out
from .cli_keys import keys_call

DEFAULT_ADDRESS = "127.0.0.1:8200"


def serve_endpoint(args: argparse.Namespace, make: Any, banner: Callable[[str, str], str]) -> int:
    """Serve `make(world, signer)`'s endpoint on `args.address` (with `args.tls`) over the world
    `args.world`/`args.memory` until interrupted; `banner(address, public key)` is the ready line."""
    from world import keys
    from world.objects.errors import ImageError
    from world.peer.server import serve
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)     # before and after serving: `kill` is a clean Ctrl-C
    host, port = listen_address(args.address)
    signer = keys_call(keys.signer)
    public = keys_call(keys.public_key)
    where = argparse.Namespace(world=args.world, memory=args.memory)   # --tls here is the endpoint's
    with open_world(where) as w:
        endpoint = make(w, signer)
        try:
            serve(endpoint, host, port, tls_dir=args.tls,
                  ready=lambda address: out(banner(address, public) + "\n"))
        except ImageError as e:         # cannot listen, or the certificates are missing
            raise CommandError(e.message) from None
        finally:
            endpoint.close()
    return EXIT_OK


def cmd_peer_serve(args: argparse.Namespace) -> int:
    """Serve the world's peer endpoint until interrupted."""
    from world.peer.endpoint import Endpoint
    image = "a world in memory" if args.memory else image_path(args)
    return serve_endpoint(args, Endpoint,
                          lambda address, key: f"serving {image} on {address} key {key} (Ctrl-C stops)")


def cmd_peer_trust(args: argparse.Namespace) -> int:
    """Record that PUBKEY's programs may run here, granted at most what the flags say."""
    import world as _world
    from world.lisp.types import Keyword, Symbol, make_list
    items: list[Any] = [Symbol("peer/trust"), args.pubkey]
    if args.name is not None:
        items += [Keyword("name"), args.name]
    if args.caps is not None:
        items += [Keyword("caps"), tuple(Keyword(c.strip()) for c in args.caps.split(",")
                                         if c.strip())]
    for flag in ("steps", "memory", "seconds", "per_minute", "concurrent"):
        value = getattr(args, flag)
        if value is not None:
            items += [Keyword(flag.replace("_", "-")), value]
    with open_world(argparse.Namespace(world=args.world)) as w:
        # The form is built as data and written canonically: no flag can inject code.
        try:
            value = w.eval(_world.write(make_list(items)), source="<peer trust>")
        except _world.LispError as e:
            raise CommandError(e.message) from None
    out(_world.write(value) + "\n")
    return EXIT_OK


def listen_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[V6]:PORT`) as a (host, port) pair; port 0 means any free one."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not port.isdigit() or not int(port) <= 65535 or not host:
        raise CommandError(f"bad address {text!r}: expected HOST:PORT (a port up to 65535), "
                           f"such as {DEFAULT_ADDRESS}")
    return host, int(port)


def cmd_peer_send(args: argparse.Namespace) -> int:
    """Send FILE's forms to the peer at ADDRESS as one program; print its value."""
    import world as _world
    from world import keys
    from world.lisp.errors import LispError
    from world.lisp.reader import read_all
    from world.lisp.types import Symbol, make_list
    from world.peer.client import exchange, outcome, request
    try:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CommandError(f"cannot read {args.file}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"cannot read {args.file}: it is not UTF-8 text") from None
    try:
        forms = read_all(text, args.file)
    except LispError as e:
        raise CommandError(str(e)) from None
    if not forms:
        raise CommandError(f"{args.file} holds no forms to send")
    form: Any = forms[0] if len(forms) == 1 else make_list([Symbol("begin"), *forms])
    caps = None if args.caps is None else [c.strip() for c in args.caps.split(",") if c.strip()]
    signer = keys_call(keys.signer)
    peer = None if args.peer_key is None else keys_call(lambda: keys.normal_public_key(args.peer_key))
    try:
        frame, nonce = request(form, signer, steps=args.steps, caps=caps, to=peer)
        reply = exchange(args.address, frame, tls_dir=args.tls, timeout=args.timeout)
        value, output = outcome(args.address, reply, nonce, peer=peer)
    except LispError as e:
        raise CommandError(e.message) from None
    out(output)                 # what the program displayed at the peer, then its value
    out(_world.write(value) + "\n")
    return EXIT_OK


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = 0.0
    if not 0 < v <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds, above 0 and at most 3600")
    return v


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: give a non-negative integer")
    return int(text)


def register(sub: Any) -> None:
    """Add `peer serve`, `peer send` and `peer trust`."""
    p = sub.add_parser("peer", help="serve this world's peer endpoint, or send a signed program "
                                    "to another world's")
    what = p.add_subparsers(dest="peer_command", metavar="serve|send|trust")
    what.required = True

    s = what.add_parser("serve", help="answer signed programs from trusted keys over WebSockets")
    s.add_argument("--address", metavar="HOST:PORT", default=DEFAULT_ADDRESS,
                   help=f"where to listen (default: {DEFAULT_ADDRESS}; port 0: any free one)")
    s.add_argument("--tls", metavar="DIR", help="serve wss:// with DIR/server.pem, accepting only "
                   "clients whose certificate DIR/ca.pem signed (`world tls-init DIR`)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--world", metavar="PATH",
                       help="the image file (default: $WORLD_IMAGE, else images/world.fs)")
    where.add_argument("--memory", action="store_true", help="a fresh world that is not saved")
    s.set_defaults(func=cmd_peer_serve)

    c = what.add_parser("send", help="sign FILE's forms with your key, run them at a peer, "
                                     "print the value")
    c.add_argument("address", metavar="ADDRESS",
                   help="ws://HOST:PORT, wss://HOST:PORT, or HOST:PORT (wss:// with --tls)")
    c.add_argument("file", metavar="FILE", help="the program: one or more forms")
    c.add_argument("--steps", type=_count, metavar="N",
                   help="the step budget to ask for (the peer grants at most its trust record's)")
    c.add_argument("--caps", metavar="GROUPS", help="capability groups to ask for, "
                   "comma-separated, such as core,output")
    c.add_argument("--tls", metavar="DIR", help="connect over TLS with DIR/client.pem, trusting "
                   "DIR/ca.pem (`world tls-init DIR`)")
    c.add_argument("--peer-key", metavar="PUBKEY", help="the peer's public key: the program is "
                   "addressed to it alone and only a reply it signed is taken")
    c.add_argument("--timeout", type=_positive, default=30.0, metavar="S",
                   help="seconds to wait for the reply (default: 30)")
    c.set_defaults(func=cmd_peer_send)

    t = what.add_parser("trust", help="let a key's programs run in this world: the CLI twin "
                                      "of (peer/trust ...)")
    t.add_argument("pubkey", metavar="PUBKEY", help="the sender's public key (`world keys show`)")
    t.add_argument("--name", help="who it is, for (inspect :peers)")
    t.add_argument("--caps", metavar="GROUPS", help="the most it may be granted, comma-separated "
                   "(core, output, simulate; default core)")
    t.add_argument("--steps", type=_count, metavar="N", help="steps per program")
    t.add_argument("--memory", type=_count, metavar="BYTES", help="memory per program")
    t.add_argument("--seconds", type=_positive, metavar="S", help="wall time per program")
    t.add_argument("--per-minute", type=_count, metavar="N", help="messages a minute")
    t.add_argument("--concurrent", type=_count, metavar="N", help="programs at once")
    t.add_argument("--world", metavar="PATH",
                   help="the image file (default: $WORLD_IMAGE, else images/world.fs)")
    t.set_defaults(func=cmd_peer_trust)


__all__ = ["register"]
