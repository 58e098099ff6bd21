"""`world pack [WHERE] [--keep-old] [--json]`: drop old revisions from an image.

Packing keeps every object the world still reaches: the live definitions, the
history, and every snapshot (a snapshot holds its own copies of its values, so
it restores the same after a pack). It prints the size before and after. A
file image's pre-pack copy (`IMAGE.old`) is removed unless `--keep-old`; a
server started by `world serve` never keeps one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .cli_common import (EXIT_OK, CommandError, UsageError, add_json_arg, add_world_args,
                         image_path, open_world)


def pack_image(w: Any, keep_old: bool = False) -> dict[str, Any]:
    """Pack the image of world `w`; return what it was and became, as plain data."""
    image = w.image
    before = _size(image)
    image.pack(keep_old=keep_old)
    old = image.path + ".old" if image.path else None
    return {"image": image.path or image.where, "before": before, "after": _size(image),
            "old-copy": old if old and os.path.exists(old) else None}


def _size(image: Any) -> int:
    """Bytes the image takes: the file itself for an image file, else what the storage says."""
    if image.path:
        try:
            return os.path.getsize(image.path)
        except OSError:
            pass
    return image.size()


def cmd_pack(args: argparse.Namespace) -> int:
    """`world pack`: drop old revisions, keep every snapshot restorable, print the sizes."""
    if args.read_only:
        raise UsageError("world pack changes the image: drop --read-only")
    if args.memory:
        raise UsageError("a --memory world has nothing to pack: give --world PATH or "
                         "--zeo HOST:PORT")
    if args.keep_old and (args.zeo or args.relstorage):
        raise UsageError("--keep-old is for an image file: a server started by `world serve` "
                         "keeps no .old copy, and PostgreSQL makes none")
    if not (args.zeo or args.relstorage) and not os.path.exists(image_path(args)):
        raise CommandError(f"no world image at {image_path(args)}: nothing to pack")
    with open_world(args) as w:
        done = pack_image(w, args.keep_old)
    if args.json:
        json.dump(done, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return EXIT_OK
    kept = f"; the old copy is {done['old-copy']}" if done["old-copy"] else ""
    print(f"packed {done['image']}: {done['before']:,} bytes before, {done['after']:,} after{kept}")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add `world pack` to the `world` command's subparsers."""
    p = sub.add_parser("pack", help="drop old revisions from an image (snapshots stay restorable)")
    p.add_argument("--keep-old", action="store_true",
                   help="keep the pre-pack copy of an image file as IMAGE.old")
    add_world_args(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_pack)
