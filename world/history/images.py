"""Development images: a copy of the whole world with its whole history."""
from __future__ import annotations

import os
from typing import Any

from ZODB.FileStorage import FileStorage
from ZODB.POSException import POSError

from ..lisp.errors import EvalError
from .record import refuse_pending


def save_dev(world: Any, path: str) -> dict[str, Any]:
    """Copy every committed transaction of `world` into a new image at `path`."""
    refuse_pending(world, "world/save-dev")
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and os.path.getsize(path) > 0:
        raise EvalError(f"world/save-dev: {path} already exists: give a new path")
    try:
        dest = FileStorage(path, create=True)
    except (OSError, POSError) as e:
        raise EvalError(f"world/save-dev: cannot create {path}: {e}") from None
    try:
        dest.copyTransactionsFrom(world.image.db.storage)
        size = dest.getSize()
    finally:
        dest.close()
    return {"path": path, "size": size}
