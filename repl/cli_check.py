"""`world check IMAGE`: every consistency check of an image, read-only, in one table.

The image is never written: the file checks read it (ZODB's own `fstest` and
`fsrefs`, called as functions with their output captured), and the world is
opened over a read-only FileStorage, which neither truncates a damaged tail nor
writes a lock, temp or index file. The rows: `file` (the image ends where it
recorded), `fstest`, `fsrefs`, `open` (the world's root loads), `records`
(every object loads under the world's allowlist) and `verify` (the history
against every live definition).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Any

from .cli_common import CommandError, image_path

CHECKS = ("file", "fstest", "fsrefs", "open", "records", "verify")


def _verify_check(root: Any) -> Any:
    """The `verify` row: the history's findings (world/history/views.py)."""
    from world.objects.damage import Check, _one_line
    from world.history.provenance import has_manifest
    if getattr(root, "history", None) is None and not has_manifest(root):   # else: its manifest
        return Check("verify", True, "no history (a production image)")
    try:
        from world.history.views import findings
        found = findings(root)
    except Exception as e:      # a damaged record the verifier did not turn into a finding
        text = e.message if hasattr(e, "message") else f"{type(e).__name__}: {e}"
        return Check("verify", False, _one_line(f"verify stopped: {text}"))
    if not found:
        return Check("verify", True, "the history matches every live definition")
    lines = [f.line() for f in found]
    more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
    return Check("verify", False, _one_line(f"{len(lines)} findings: " + "; ".join(lines[:3])
                                            + more, 600))


def run_checks(path: str) -> list[Any]:
    """Every check of the image at `path`, as rows (`world.objects.damage.Check`)."""
    from ZODB.FileStorage import FileStorage
    from world.objects.damage import Check, _one_line, file_checks, record_check
    from world.objects.image import Image
    from world.lisp.errors import LispError
    rows = file_checks(path)
    if os.path.getsize(path) == 0:
        return rows
    try:
        storage = FileStorage(path, read_only=True)
    except Exception as e:
        rows.append(Check("open", False, _one_line(f"{type(e).__name__}: {e}")))
        return rows
    try:
        image = Image.open(storage=storage, read_only=True)
    except LispError as e:
        storage.close()
        rows.append(Check("open", False, e.message))
        return rows
    except Exception as e:
        storage.close()
        rows.append(Check("open", False, _one_line(f"{type(e).__name__}: {e}")))
        return rows
    try:
        rows.append(Check("open", True, f"{len(image.root.definitions)} definitions"))
        rows.append(record_check(image.conn, storage))
        rows.append(_verify_check(image.root))
    finally:
        image.close()
    return rows


def cmd_check(args: argparse.Namespace) -> int:
    """`world check [IMAGE] [--json]`: the table of checks; exit 0 only if all pass."""
    path = os.path.abspath(args.image or image_path(args))
    if os.path.isdir(path):
        raise CommandError(f"{path} is a directory: give the path of an image file")
    if not os.path.isfile(path):
        raise CommandError(f"no world image at {path}: check the path" if not os.path.exists(path)
                           else f"{path} is not a regular file: give the path of an image file")
    rows = run_checks(path)
    ok = all(r.ok for r in rows)
    if args.json:
        print(json.dumps({"image": path, "ok": ok, "checks": [r.as_dict() for r in rows]},
                         indent=1))
    else:
        width = max(len(r.name) for r in rows)
        for r in rows:
            print(f"{r.name:<{width}}  {'ok  ' if r.ok else 'FAIL'}  {r.detail}")
        print(f"{path}: {'all checks pass' if ok else 'DAMAGED: see the FAIL rows above'}")
    return 0 if ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add `world check`."""
    c = sub.add_parser("check", help="check an image read-only: ZODB's fstest and fsrefs, "
                                     "every record, and the history")
    c.add_argument("image", nargs="?", help="the image file (default: --world, $WORLD_IMAGE, "
                                            "else images/world.fs)")
    c.add_argument("--world", help=argparse.SUPPRESS)
    c.add_argument("--json", action="store_true", help="print the table as JSON")
    c.set_defaults(func=cmd_check)
