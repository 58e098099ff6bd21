"""An open world image: the database, one connection with its own transaction
manager, and the world's root.

`commit` and `abort` end the transaction a form runs in; failures of the
storage become the world's own errors. Retrying a conflicting form is the
session's job (`World.eval_form`), done in one place there.
"""
from __future__ import annotations

import os
import pickle
import sys
import time
from datetime import datetime, timezone
from typing import Any, Iterable

import transaction
from persistent.TimeStamp import TimeStamp
from ZEO.Exceptions import ClientDisconnected
from ZODB.POSException import ConflictError, POSError, ReadOnlyError, StateLoadError

from ..lisp.errors import BudgetExceeded, InternalError, LispError, LispTypeError
from ..lisp.runtime import on_big_stack
from . import damage
from .errors import ImageError, ReadOnlyWorld
from .format import forget, migrated_in
from .storable import commit_depth, too_deep
from .root import FORMAT_VERSION, ROOT_KEY, WorldRoot, find_root
from .storage import (CACHE_OBJECTS, WorldDB, file_storage, memory_storage, safe_dsn,
                      zeo_storage)
from .storage import relstorage as open_relstorage

NOTE_CHARS = 80
NOTE_NAMES = 200         # names listed in a transaction's extension (it is capped at 64 KB)


def iso(t: float) -> str:
    """A time as ISO 8601 text in UTC."""
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def note_for(text: str) -> str:
    """A transaction note: the first line-folded characters of a form's text."""
    one = " ".join(text.split())
    return one if len(one) <= NOTE_CHARS else one[:NOTE_CHARS - 3] + "..."


def _names(names: list[str]) -> str:
    if not names:
        return "this change"
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _finishing(e: BaseException) -> bool:
    """Whether a lost ZEO server was lost during tpc_finish (the commit may have landed)."""
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "tpc_finish":
            return True
        tb = tb.tb_next
    return False


class Image:
    """A world database opened by this process."""

    def __init__(self, storage: Any, where: str, path: str | None = None,
                 read_only: bool = False) -> None:
        self.where, self.path, self.read_only = where, path, read_only
        self.tls: str | None = None      # the certificates directory of a ZEO client over TLS
        try:
            self.db = WorldDB(storage, where=where, cache_size=CACHE_OBJECTS,
                              large_record_size=1 << 30)
        except ImageError:               # its root names a global the allowlist refuses
            storage.close()
            raise
        except POSError as e:
            storage.close()
            raise ImageError(f"{where} cannot be opened ({type(e).__name__}): "
                             f"open it writable once, or check the path") from None
        except OSError as e:             # a new image's first transaction, on a full disk
            damage.recover(storage)
            try:
                storage.close()
            except OSError:
                damage.force_close(storage)
            raise damage.write_error(where, e, "nothing was saved") from None
        self.tm = transaction.TransactionManager()
        self.conn = self.db.open(self.tm)
        try:
            self.root = self._find_or_create_root()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, path: str | None = None, zeo: str | None = None, read_only: bool = False,
             relstorage: str | None = None, storage: Any = None,
             tls: str | None = None, zeo_timeout: float | None = None) -> "Image":
        """Open the image at `path`, the ZEO server at `zeo` (over TLS with the certificates
        in the directory `tls`, if given), the PostgreSQL database `relstorage` (a DSN), a
        ZODB `storage` you opened, or a new world in memory."""
        if tls is not None and zeo is None:
            raise ImageError("a TLS directory is for a ZEO server: give --zeo HOST:PORT with --tls DIR")
        if zeo_timeout is not None and zeo is None:
            raise ImageError("a ZEO timeout is for a ZEO server: give --zeo HOST:PORT with --zeo-timeout")
        if storage is not None:
            name = storage.getName() if hasattr(storage, "getName") else type(storage).__name__
            return cls(storage, str(name), None, read_only)
        if relstorage is not None:
            return cls(open_relstorage(relstorage, read_only), f"postgresql:{safe_dsn(relstorage)}",
                       None, read_only)
        if zeo is not None:
            image = cls(zeo_storage(zeo, read_only, zeo_timeout, tls), f"zeo://{zeo}", None,
                        read_only)
            image.tls = tls
            return image
        if path is not None:
            path = os.path.abspath(os.fspath(path))
            before = damage.present(path)
            storage = file_storage(path, read_only)
            try:
                return cls(storage, path, path, read_only)
            except BaseException:
                if "" not in before:     # a new image that could not be made leaves no file
                    damage.remove_new(path, before)
                raise
        return cls(memory_storage(), "<memory>", None, read_only)

    def _find_or_create_root(self) -> WorldRoot:
        self.tm.begin()
        zroot = self.conn.root()
        root = find_root(zroot)
        if root is None:
            if len(zroot):
                raise ImageError(f"{self.where} is a ZODB database but not a world image: "
                                 f"give another path")
            if self.read_only:
                raise ImageError(f"{self.where} holds no world yet: open it writable once")
            root = zroot[ROOT_KEY] = WorldRoot()
            self.commit("world: create image")
        try:
            root._p_activate()           # a root newer than this release is refused here
        except StateLoadError as e:
            why = e.__cause__
            detail = why.message if isinstance(why, ImageError) else f"{type(why).__name__}: {why}"
            raise ImageError(f"{self.where} cannot be loaded: {detail}") from None
        lost = [k for k in WorldRoot().__dict__ if not hasattr(root, k)]
        if lost:                         # a damaged record can still unpickle, without them
            raise ImageError(f"{self.where}: the world's root object lacks {', '.join(lost)}: "
                             f"the image is damaged or was altered")
        return root

    # ------------------------------------------------------------ transactions
    def begin(self) -> None:
        """Start a transaction, seeing everything committed so far."""
        self.db.check_server()
        try:
            self.tm.begin()
        except ClientDisconnected:       # its first round trip to a ZEO server found none
            self.tm.abort()
            raise self.db.lost_server() from None
        self.db.reconnected()

    def abort(self) -> None:
        """Drop every change of the current transaction."""
        self.tm.abort()

    def commit(self, note: str, names: Iterable[str] = ()) -> None:
        """Commit the current transaction with `note`; ConflictError is left to the caller."""
        txn = self.tm.get()
        txn.note(note)
        names = sorted(names)
        if names:
            txn.setExtendedInfo("names", names[:NOTE_NAMES])
            if len(names) > NOTE_NAMES:
                txn.setExtendedInfo("more-names", len(names) - NOTE_NAMES)
        try:
            self._commit_deep()
        except ConflictError:
            raise
        except ClientDisconnected as e:
            self.tm.abort()
            raise self.db.lost_server(committing=_finishing(e)) from None
        except ReadOnlyError:
            self.tm.abort()
            raise ReadOnlyWorld(f"{self.where} is open read-only: reopen it writable to "
                                f"change the world") from None
        except (LispError, TypeError, pickle.PicklingError, AttributeError) as e:
            # A value that cannot be pickled, such as a continuation.
            self.tm.abort()
            why = e.message if isinstance(e, LispError) else str(e)
            raise LispTypeError(f"cannot store {_names(names)}: {why}") from None
        except OSError as e:
            self._abort_after_write_error()
            raise damage.write_error(self.where, e, "nothing of this form was saved") from None
        except POSError as e:
            self._abort_after_write_error()
            raise ImageError(f"cannot write to {self.where} ({type(e).__name__}: {e}): "
                             f"nothing of this form was saved") from None
        except RecursionError:
            self.tm.abort()
            raise too_deep() from None
        except MemoryError:
            self.tm.abort()
            raise BudgetExceeded("memory", f"cannot store {_names(names)}: host memory "
                                 f"exhausted") from None
        except Exception as e:
            self.tm.abort()
            raise InternalError(f"committing {_names(names)} failed: "
                                f"{type(e).__name__}: {e}") from None

    def _abort_after_write_error(self) -> None:
        """Abort the transaction a failed write left, and cut the image back to its last
        whole transaction (the abort's own flush may fail on the same full disk)."""
        try:
            self.tm.abort()
        except OSError:
            pass
        damage.recover(self.db.storage)

    def _commit_deep(self) -> None:
        """Commit on the evaluation thread's large stack, deep enough for any storable value."""
        def work() -> None:
            old = sys.getrecursionlimit()
            sys.setrecursionlimit(max(old, commit_depth()))
            try:
                self.tm.commit()
            finally:
                sys.setrecursionlimit(old)
        on_big_stack(work)

    def write_back_migrated(self) -> int:
        """Store again the objects whose format was migrated when they loaded."""
        objs = migrated_in(self.conn)
        if not objs or self.read_only:
            return 0
        self.begin()
        for obj in objs:
            obj._p_changed = True
        try:
            self.commit(f"world: migrate {len(objs)} objects to the current format")
        except ConflictError:        # another session wrote them back first
            self.abort()
            return 0
        forget(objs)
        return len(objs)

    # ------------------------------------------------------------ maintenance
    def pack(self, keep_old: bool = False) -> None:
        """Drop old revisions and unreachable objects (snapshots keep their own copies); with
        `keep_old`, a file image's pre-pack copy stays beside it as `.old`."""
        try:
            self.db.pack(time.time())
        except (OSError, POSError) as e:
            raise ImageError(f"cannot pack {self.where} ({type(e).__name__}: {e}): "
                             f"the image is unchanged") from None
        if self.path and not keep_old:  # the owner dropped the old revisions: FileStorage's copy goes too
            try:
                os.unlink(self.path + ".old")
            except OSError:
                pass

    def last_transaction(self) -> float:
        """The time of the last committed transaction (seconds since the epoch)."""
        return TimeStamp(self.db.lastTransaction()).timeTime()

    def size(self) -> int:
        """Bytes the storage uses."""
        try:
            return int(self.db.getSize())
        except Exception:
            return 0

    def info(self) -> dict[str, Any]:
        """Facts about the image, as plain data."""
        root = self.root
        return {"path": self.path if self.path else self.where, "size": self.size(),
                "objects": len(self.db.storage), "definitions": len(root.definitions),
                "macros": len(root.macros), "snapshots": len(root.snapshots),
                "last-transaction": iso(self.last_transaction()),
                "created": iso(root.created), "format-version": FORMAT_VERSION,
                "read-only": self.read_only}

    def close(self) -> None:
        """Close the connection and the database (uncommitted changes are dropped)."""
        try:
            self.tm.abort()
            self.conn.close()
        finally:
            try:
                self.db.close()
            except OSError as e:         # a full or vanished disk: still let go of the image
                damage.force_close(self.db.storage)
                raise damage.write_error(self.where, e, "it was closed; reopen it to go on "
                                         "from its last saved form") from None
            finally:
                if self.path:            # FileStorage leaves an index it could not finish
                    damage.remove_half_index(self.path)
