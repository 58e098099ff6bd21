"""Opening the storage under a world: a FileStorage image, a ZEO server,
RelStorage on PostgreSQL, or memory; and the ZODB database class that loads
Lisp values.

Every way an image can be unusable (not a ZODB file, truncated, locked by
another process, in a directory we cannot write) is checked before ZODB
touches the file, and ends in one `ImageError` line naming the path and what
to do. A crash leaves at most an unfinished last transaction, which ZODB
itself drops on the next open (keeping the bytes in a `.trN` file).
"""
from __future__ import annotations

import errno
import logging
import os
import re
import socket
import struct
import time
from typing import Any

import ZODB
from ZODB.Connection import Connection
from ZODB.FileStorage import FileStorage
from ZODB.FileStorage.FileStorage import FileStorageFormatError, packed_version
from ZODB.FileStorage.format import CorruptedError
from ZODB.MappingStorage import MappingStorage
from ZODB.POSException import POSError, POSKeyError, ReadConflictError, StateLoadError
from zc.lockfile import LockError
from ZEO.Exceptions import ClientDisconnected

from ..lisp.env import environment_by_id
from ..lisp.errors import LispError
from . import damage
from .allowlist import Refused, RefusedRecord, find, oid_text
from .errors import ImageError, ServerLost
from .lazy import ENV_GLOBAL, HOMES

MAGIC = packed_version          # b"FS30" with this ZODB
CACHE_OBJECTS = 1_000_000        # a world keeps its namespace in memory anyway
ZEO_TIMEOUT = 10.0
RECONNECT_SECONDS = 5.0       # ZEO's client retries a lost server every 1 to 2 s


class WorldConnection(Connection):
    """A connection whose load failures are one error line naming the object id: a
    record the allowlist refused, or one whose data does not fit its class."""

    def get(self, oid: bytes) -> Any:
        self._db.check_server()
        try:
            return super().get(oid)
        except ClientDisconnected:
            raise self._db.lost_server() from None
        except Refused as e:
            raise e.at(oid, self._db.where) from None
        except damage.RecordError:
            raise
        except POSKeyError:
            raise missing(oid, self._db.where) from None
        except CorruptedError as e:
            raise damaged(oid, self._db.where, e) from None
        except (POSError, KeyError, LispError):
            raise
        except Exception as e:
            raise damaged(oid, self._db.where, e) from None

    def setstate(self, obj: Any) -> None:
        self._db.check_server()
        try:
            super().setstate(obj)
        except ClientDisconnected:
            raise self._db.lost_server() from None
        except Refused as e:
            raise e.at(obj._p_oid, self._db.where) from None
        except damage.RecordError:
            raise
        except POSKeyError:
            raise missing(obj._p_oid, self._db.where) from None
        except ReadConflictError as e:
            # A single FileStorage has no other writer to have packed the object away:
            # its record says it was never created (a damaged data header).
            if not isinstance(self._db.storage, FileStorage) or "deleted" not in str(e):
                raise
            raise damaged(obj._p_oid, self._db.where, e) from None
        except StateLoadError as e:
            why = e.__cause__
            if isinstance(why, Refused):
                raise why.at(obj._p_oid, self._db.where) from None
            if isinstance(why, RefusedRecord):      # a record this one refers to
                raise why from None
            if isinstance(why, ImageError):         # such as a format newer than this release
                raise damage.RecordError(self._db.where, oid_text(obj._p_oid),
                                         f"cannot be loaded: {why.message}") from None
            if why is None or isinstance(why, (LispError, POSError, RecursionError, MemoryError)):
                raise
            raise damaged(obj._p_oid, self._db.where, why) from None
        except damage.READ_ERRORS as e:              # the storage could not read the record
            if isinstance(e, MemoryError) and not isinstance(self._db.storage, FileStorage):
                raise
            raise damaged(obj._p_oid, self._db.where, e) from None

    def prefetch(self, *args: Any) -> None:
        self._db.check_server()
        try:
            super().prefetch(*args)
        except ClientDisconnected:
            raise self._db.lost_server() from None


def damaged(oid: bytes, where: str, why: BaseException) -> ImageError:
    """The error for a record whose data its class cannot take."""
    detail = " ".join(str(why).split())[:160]
    return damage.RecordError(where, oid_text(oid), f"cannot be loaded ({type(why).__name__}"
                              f"{': ' + detail if detail else ''}): the image is damaged or "
                              f"was altered")


def missing(oid: bytes, where: str) -> ImageError:
    """The error for a reference to an object the storage does not hold."""
    return damage.MissingRecord(where, oid_text(oid), "is missing though a stored record refers "
                                "to it: the image is damaged or was altered")


class WorldDB(ZODB.DB):
    """A ZODB database that loads only allowlisted globals (allowlist.py), whose
    loaded closures are lazy and run in their world."""

    klass = WorldConnection
    lost = False            # a ZEO server stopped answering, and has not answered since

    def __init__(self, storage: Any, where: str = "the world image", **kw: Any) -> None:
        self._globals: dict[tuple[str, str], Any] = {}
        self.where = where
        super().__init__(storage, **kw)

    def lost_server(self, committing: bool = False) -> ServerLost:
        """The error for a ZEO server that stopped answering (remembered: see `check_server`)."""
        self.lost = True
        return server_lost(self.storage, committing)

    def check_server(self) -> None:
        """Fail at once, not after another `--zeo-timeout` wait, while a ZEO server found
        lost is still gone (a form that lost it fails once, however much more it would
        load); once it listens again, give the client time to reconnect."""
        if not self.lost:
            return
        if self.storage.is_connected():
            self.lost = False
            return
        if not answers(self.storage):
            raise server_lost(self.storage)
        deadline = time.monotonic() + RECONNECT_SECONDS
        while not self.storage.is_connected() and time.monotonic() < deadline:
            time.sleep(0.02)

    def reconnected(self) -> None:
        """A transaction began: the server answered."""
        self.lost = False

    def classFactory(self, connection: Any, modulename: str, globalname: str) -> Any:
        key = (modulename, globalname)
        if key == ENV_GLOBAL:
            return HOMES.get(connection) or environment_by_id
        found = self._globals.get(key)
        if found is None:
            found = self._globals[key] = find(modulename, globalname)
        return found


def _quiet_refusals(record: logging.LogRecord) -> bool:
    """Keep ZODB from logging a traceback for a load failure `WorldConnection` turns into
    one error line for the caller (a refused or damaged record)."""
    exc = record.exc_info[1] if record.exc_info else None
    if exc is None or not record.name.startswith("ZODB.Connection"):
        return True
    why = exc.__cause__ if isinstance(exc, StateLoadError) else exc
    return isinstance(why, (LispError, POSError, RecursionError, MemoryError)) and not isinstance(
        why, (Refused, RefusedRecord, ClientDisconnected))


logging.getLogger("ZODB.Connection").addFilter(_quiet_refusals)


def memory_storage() -> MappingStorage:
    """A storage that lives only as long as the process."""
    return MappingStorage("world")


def _check_image(path: str, read_only: bool) -> None:
    """Refuse, without writing anything, a path that cannot hold a world image."""
    if os.path.isdir(path):
        raise ImageError(f"{path} is a directory: give the path of an image file, "
                         f"such as {os.path.join(path, 'world.fs')}")
    size = os.path.getsize(path) if os.path.exists(path) else -1
    if size < 0:
        if read_only:
            raise ImageError(f"no world image at {path}: check the path, or open it writable to create one")
        return
    damage.check_image(path)


def _holder(path: str) -> str:
    try:
        with open(path + ".lock", encoding="ascii", errors="replace") as f:
            pid = f.read().strip()
    except OSError:
        pid = ""
    if pid == str(os.getpid()):
        return "already open in this process"
    return f"in use by another process{f' ({pid})' if pid else ''}"


def _unwritable(path: str, reason: str) -> ImageError:
    folder = os.path.dirname(path)
    if os.path.exists(path):
        return ImageError(f"cannot open {path} for writing: {folder} is {reason}: open it "
                          f"read-only, or copy it to a writable directory")
    return ImageError(f"cannot create {path}: {folder} is {reason}: choose a writable "
                      f"directory with --world PATH")


def _open_file_storage(path: str, read_only: bool) -> FileStorage:
    """A FileStorage on `path` once the image is checked; a failed open leaves no file it made."""
    before = damage.present(path)
    storage = FileStorage.__new__(FileStorage)
    try:
        if not read_only:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        _check_image(path, read_only)
        storage.__init__(path, read_only=read_only)
        return storage
    except BaseException:
        # Leave no lock, temp or half-made image behind, and no lock held by this process.
        damage.close_partial(storage)
        damage.remove_new(path, before)
        raise


def file_storage(path: str, read_only: bool = False) -> FileStorage:
    """Open or create the FileStorage image at `path`."""
    path = os.path.abspath(path)
    try:
        return _open_file_storage(path, read_only)
    except LockError:
        raise ImageError(f"{path} is {_holder(path)}: close that session, or share the "
                         f"world with `world serve` and --zeo") from None
    except PermissionError:
        raise _unwritable(path, "not writable (permission denied)") from None
    except FileStorageFormatError:
        raise ImageError(f"{path} is not a world image (not a ZODB FileStorage file): "
                         f"give another path, or move the file away") from None
    except OSError as e:
        if e.errno == errno.EROFS:
            raise _unwritable(path, "on a read-only file system") from None
        if e.errno in damage.WRITE_ERRNOS:
            raise damage.write_error(path, e, "nothing was changed") from None
        raise ImageError(f"cannot open {path}: {e.strerror or e}") from None
    except (POSError, ValueError, struct.error) as e:   # FileStorage's reading of a damaged record
        detail = " ".join(str(e).split())[:200]
        raise ImageError(f"{path} is damaged ({type(e).__name__}: {detail}): restore it from a "
                         f"backup; `world check {path}` tells what is wrong") from None


def parse_address(address: str) -> tuple[str, int]:
    """`HOST:PORT` as a (host, port) pair."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ImageError(f"bad ZEO address {address!r}: expected HOST:PORT (a port up to 65535), "
                         f"such as 127.0.0.1:8100")
    return host or "127.0.0.1", int(port)


def zeo_timeout(seconds: float | None) -> float:
    """The seconds a ZEO client waits for its server (`--zeo-timeout`), checked."""
    if seconds is None:
        return ZEO_TIMEOUT
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < 1e6:
        raise ImageError(f"bad ZEO timeout {seconds!r}: give a number of seconds above 0, "
                         f"such as 10")
    return float(seconds)


def zeo_storage(address: str, read_only: bool = False, timeout: float | None = None,
                tls: str | None = None) -> Any:
    """A client storage connected to the ZEO server at `address`, over TLS with the
    certificates in the directory `tls` if given (see tls.py); every call waits at most
    `timeout` seconds for a lost server to come back (ZEO reconnects by itself)."""
    import ZEO
    from .tls import check_server, client_context, is_loopback
    host, port = parse_address(address)
    if tls is None and not is_loopback(host):
        raise ImageError(f"refusing to reach {address} without TLS: beyond loopback a world "
                         f"is served with `world serve --tls DIR`; give --tls DIR too")
    wait = zeo_timeout(timeout)
    ctx = client_context(tls) if tls is not None else None
    # ZEO's client retries a refused connection forever: try it once first, so that a
    # refused certificate or a TLS mismatch is one error line, at once.
    check_server(address, host, port, ctx, wait)
    tls_args = {"ssl": ctx, "ssl_server_hostname": host} if ctx is not None else {}
    try:
        # server_sync: each transaction starts with a round trip, so it sees every
        # commit that finished before it began, not only those already announced.
        client = ZEO.client((host, port), wait_timeout=wait, read_only=read_only,
                            server_sync=True, **tls_args)
    except ClientDisconnected:
        raise ImageError(f"no ZEO server answers at {address} (waited {wait:g} s): start one "
                         f"with `world serve --address {address}`") from None
    client.world_address, client.world_timeout = address, wait    # for `server_lost`
    _bound_replies(client, wait)
    return client


BOUNDED = frozenset({"call_sync_co", "load_before_co", "tpc_finish_co"})   # requests to the server
UNBOUNDED = frozenset({"pack"})      # server calls that may rightly take longer than the timeout


def _bound_replies(client: Any, seconds: float) -> None:
    """Make a server that stops answering with its connection still up (hung, or cut off
    without a reset) fail each call after `seconds`, as a closed connection does, instead
    of blocking the session for good. ZEO bounds only the wait for a connection."""
    import asyncio
    runner = client._server
    io_call = runner.io_call

    def bounded(coro: Any, wait: bool = True) -> Any:
        code, frame = getattr(coro, "cr_code", None), getattr(coro, "cr_frame", None)
        method = frame.f_locals.get("method") if frame is not None else None
        if not wait or code is None or code.co_name not in BOUNDED or method in UNBOUNDED:
            return io_call(coro, wait)         # closing has its own bound
        future = io_call(coro, False)
        try:
            return future.result(seconds)
        except asyncio.TimeoutError:
            # Not cancelled: a late answer (or failure) lands in the IO thread, dropped there.
            future.add_done_callback(lambda done: done.exception())
            raise ClientDisconnected(f"no answer in {seconds:g} s") from None

    runner.io_call = bounded


def server_lost(storage: Any, committing: bool = False) -> ServerLost:
    """The one error line for a ZEO server that stopped answering during a form."""
    address = getattr(storage, "world_address", None) or storage.getName()
    wait = getattr(storage, "world_timeout", ZEO_TIMEOUT)
    # Past tpc_finish's request the server may have committed before going away.
    fate = ("the form may or may not have been committed (the next form shows which)"
            if committing else "the form was not committed")
    return ServerLost(f"lost the ZEO server at {address} (no answer in {wait:g} s): {fate}; "
                      f"reconnecting: evaluate it again once the server is back")


def answers(storage: Any) -> bool:
    """Whether something accepts a connection at a ZEO client's server address now."""
    address = getattr(storage, "world_address", None)
    if address is None:
        return True
    host, port = parse_address(address)
    try:
        socket.create_connection((host, port), timeout=min(1.0, storage.world_timeout)).close()
    except OSError:
        return False
    return True


def safe_dsn(dsn: str) -> str:
    """A PostgreSQL DSN with its password hidden, for messages."""
    dsn = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn)
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)


def relstorage(dsn: str, read_only: bool = False) -> Any:
    """RelStorage on the PostgreSQL database that `dsn` names (history kept, for snapshots)."""
    try:
        from relstorage.adapters.postgresql import PostgreSQLAdapter
        from relstorage.options import Options
        from relstorage.storage import RelStorage
    except ImportError:
        raise ImageError("RelStorage is not installed: pip install 'relstorage[postgresql]'") from None
    options = Options(keep_history=True, read_only=read_only)
    try:
        adapter = PostgreSQLAdapter(dsn=dsn, options=options)
        return RelStorage(adapter, options=options)
    except Exception as e:       # the driver's own errors: psycopg2, pg8000, ...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ImageError(f"cannot open PostgreSQL database {safe_dsn(dsn)!r} ({first}): check "
                         f"that the server runs and the DSN is right") from None
