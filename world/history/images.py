"""Development images: a copy of the whole world with its whole history (a copy made over
findings, see world/build.py, records them: see provenance.py)."""
from __future__ import annotations

import os
import tempfile
from typing import Any

import transaction
from ZODB import DB
from ZODB.FileStorage import FileStorage
from ZODB.POSException import POSError

from ..lisp.errors import EvalError
from ..objects.image import Image
from ..objects.root import ROOT_KEY
from ..lisp.watchdog import shielded
from .newimage import creating, target
from . import provenance
from .record import history_of, refuse_pending


def save_dev(world: Any, path: str, base: str | None = None,
             forced: tuple[str, ...] = ()) -> dict[str, Any]:
    """Copy every committed transaction of `world` into a new `.fs` image at `path`
    (relative to `base`); see newimage.py for which names are allowed. `forced`: the
    findings the copy was made over, recorded in it."""
    refuse_pending(world, "world/save-dev")
    path = target("world/save-dev", path, base)
    with creating("world/save-dev", path) as tmp:
        try:
            dest = FileStorage(tmp, create=True)
        except POSError as e:
            raise EvalError(f"world/save-dev: cannot create {path}: {e}") from None
        source = world.image.db.storage
        # ZODB's commit machinery is not safe to stop in its middle, so a stop (time, Ctrl-C)
        # lands once the copy, bounded by the image's size, is whole.
        with shielded():
            try:
                if isinstance(source, FileStorage) or hasattr(source, "_server"):
                    dest.copyTransactionsFrom(source)     # every transaction, old revisions too
                else:
                    _export(world, dest)                  # a storage that cannot be iterated: the objects
            finally:
                dest.close()
            if forced:
                _stamp(world, tmp, forced)
            size = os.path.getsize(tmp)
    return {"path": path, "size": size}


def _stamp(world: Any, path: str, forced: tuple[str, ...]) -> None:
    """Record in the copy at `path` where it came from and the findings it was made over."""
    hist = history_of(world)
    image = Image.open(path)
    try:
        image.begin()
        provenance.stamp(image.root, hist, forced)
        image.commit("world: development image made with --force")
    finally:
        image.close()


def _export(world: Any, dest: FileStorage) -> None:
    """Copy the world root and everything it reaches into `dest` (committed state)."""
    buf = tempfile.TemporaryFile()
    try:
        world.image.conn.exportFile(world.image.root._p_oid, buf)
        buf.seek(0)
        db = DB(dest)
        tm = transaction.TransactionManager()
        conn = db.open(tm)
        try:
            conn.root()[ROOT_KEY] = conn.importFile(buf)
            tm.get().note("world: development image")
            tm.commit()
        finally:
            conn.close()
    finally:
        buf.close()
