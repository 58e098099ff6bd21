"""`world keys init [--force]` and `world keys show`: the user's signing key (world/keys.py)."""
from __future__ import annotations

import argparse
from typing import Any, Callable, TypeVar

from .cli_common import EXIT_OK, CommandError, UsageError, out

T = TypeVar("T")


def keys_call(fn: Callable[[], T]) -> T:
    """`fn()`, a problem with the signing key ending as one `error:` line."""
    from world.keys import SigningKeyError
    try:
        return fn()
    except SigningKeyError as e:
        raise CommandError(str(e)) from None


def cmd_keys(args: argparse.Namespace) -> int:
    """`world keys init [--force]` or `world keys show`."""
    from world import keys
    if args.what == "init":
        public = keys_call(lambda: keys.init(force=args.force))
        out(f"{public}\n")
        out(f"wrote {keys.key_path()} (private, mode 0600) and its public key; sign with "
            f"`world commit --sign`, trust it in a world with (history/trust \"{public}\")\n")
    else:
        if args.force:
            raise UsageError("keys show: --force is only for `keys init`")
        out(keys_call(keys.public_key) + "\n")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add `keys`."""
    p = sub.add_parser("keys", help="your Ed25519 signing key: init, show")
    p.add_argument("what", choices=("init", "show"),
                   help="init: make a key pair under the config directory; show: print the public key")
    p.add_argument("--force", action="store_true", help="init: replace an existing key")
    p.set_defaults(func=cmd_keys)
