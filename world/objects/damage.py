"""Damage to a FileStorage image, found before ZODB may change the file, and
failures of the disk under an open image.

FileStorage repairs what it takes for a crash: a data file that ends inside a
transaction is cut back to the last whole one, the cut bytes copied to a
`.trN` file. That is right for the one transaction a crash can leave unfinished
(its header still says "checkpoint", so nobody was told it committed), and
wrong for anything else: a file cut short by a bad copy or a failing disk
would silently lose committed definitions and their history. So before a
FileStorage is built on an image, `check_image` reads what the image recorded
(its `.index` file's end position, and the transaction headers from there to
the end) and refuses, leaving every byte as it was, a file that ends before
what it recorded.

A full disk, a read-only device or a file size limit during a commit is one
`ImageError`; `recover` puts the storage back where its last whole transaction
ends, so that the world goes on as it was and the next commit can succeed
once there is room.
"""
from __future__ import annotations

import errno
import io
import os
import pickle
import stat
import struct
from struct import unpack
from typing import Any

from ZODB.FileStorage.format import TRANS_HDR, TRANS_HDR_LEN, CorruptedError
from ZODB.POSException import POSKeyError
from ZODB.utils import u64

from .errors import ImageError

MAGICS = (b"FS30", b"FS21")
# Files FileStorage keeps beside an image; those an open that failed created are removed.
COMPANIONS = ("", ".lock", ".tmp", ".index", ".index.index_tmp")
RESTORE = "restore it from a backup (`world check` tells what is wrong)"


class RecordError(ImageError):
    """A stored record that cannot become an object: names the image and the object id."""

    def __init__(self, where: str, oid: str, detail: str) -> None:
        super().__init__(f"{where}: object {oid} {detail}")
        self.where, self.oid, self.detail = where, oid, detail


class MissingRecord(RecordError, POSKeyError):
    """A stored reference to an object the image does not hold."""


# What FileStorage raises reading a record whose header was damaged (a length past the
# end of the file, a bad back pointer): the image's fault, not the program's.
READ_ERRORS = (CorruptedError, ValueError, OverflowError, struct.error, MemoryError)


# ------------------------------------------------------------ before opening
class _NoGlobals(pickle.Unpickler):
    """Unpickles plain data only: an index file is read before anything is trusted."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def index_position(path: str) -> int | None:
    """The data file length `path`'s `.index` file recorded, or None if it has no usable one."""
    try:
        with open(path + ".index", "rb") as f:
            pos = _NoGlobals(f).load()     # fsIndex.save writes the position first
    except Exception:
        return None          # missing or unreadable: FileStorage rebuilds it from the data
    return pos if isinstance(pos, int) and not isinstance(pos, bool) else None


def _ends_a_transaction(f: io.BufferedReader, pos: int) -> bool:
    """Whether a whole transaction ends at `pos` (as FileStorage checks a saved index)."""
    if pos < 4 + TRANS_HDR_LEN + 8:
        return pos == 4
    f.seek(pos - 8)
    tl = u64(f.read(8))
    start = pos - tl - 8
    if start < 4:
        return False
    f.seek(start)
    head = f.read(TRANS_HDR_LEN)
    return len(head) == TRANS_HDR_LEN and unpack(TRANS_HDR, head)[1] == tl


def tail_damage(f: io.BufferedReader, pos: int, size: int) -> str | None:
    """Why the transactions from `pos` to the end of a data file of `size` bytes would
    be cut off on opening, or None if only an unfinished last commit would be."""
    while pos < size:
        f.seek(pos)
        head = f.read(TRANS_HDR_LEN)
        if len(head) < TRANS_HDR_LEN:
            return f"its last {size - pos} bytes, from byte {pos}, are not a whole transaction"
        _tid, tl, status, ul, dl, el = unpack(TRANS_HDR, head)
        end = pos + tl + 8
        if status == b"c":        # checkpoint: a commit a crash interrupted, never acknowledged
            if end >= size:
                return None
            return (f"the transaction at byte {pos} was never finished, yet {size - end} "
                    f"bytes follow it")
        if status not in b" pu" or tl < TRANS_HDR_LEN + ul + dl + el:
            return f"the transaction header at byte {pos} is damaged"
        if end > size:
            return (f"it ends {end - size} bytes before the end of the transaction at "
                    f"byte {pos}")
        f.seek(end - 8)
        if u64(f.read(8)) != tl:
            return f"the transaction at byte {pos} does not end where its header says"
        pos = end
    return None


def check_image(path: str) -> None:
    """Refuse, reading only, an existing image FileStorage would cut short or misread."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(f"{path} is not a regular file (a device, pipe or socket): give the "
                         f"path of an image file")
    size = st.st_size
    recorded = index_position(path)
    has_index = os.path.exists(path + ".index")
    if size == 0:
        if has_index:
            held = f"its index recorded {recorded} bytes" if recorded else "it has an index"
            raise ImageError(f"{path} is empty but {held}: the image was lost; {RESTORE}, "
                             f"or move it and its .index file away to start a new world")
        return
    with open(path, "rb") as f:
        head = f.read(4)
        if head not in MAGICS:
            if head == MAGICS[0][:len(head)]:
                raise ImageError(f"{path} is truncated ({size} bytes): {RESTORE}")
            raise ImageError(f"{path} is not a world image (not a ZODB FileStorage file): "
                             f"give another path, or move the file away")
        if recorded is not None and recorded > size:
            raise ImageError(f"{path} is truncated: it held {recorded} bytes when its index "
                             f"was written and has {size}; {RESTORE}")
        start = recorded if recorded is not None and _ends_a_transaction(f, recorded) else 4
        why = tail_damage(f, start, size)
    if why is not None:
        raise ImageError(f"{path} is truncated or damaged: {why}; opening it would drop "
                         f"that part; {RESTORE}")


def present(path: str) -> set[str]:
    """Which of the image's files exist now."""
    return {s for s in COMPANIONS if os.path.lexists(path + s)}


def remove_new(path: str, before: set[str]) -> None:
    """Remove the image's files that did not exist in `before` (an open that failed made them)."""
    for s in COMPANIONS:
        if s not in before:
            try:
                os.unlink(path + s)
            except OSError:
                pass


def close_partial(storage: Any) -> None:
    """Close what a FileStorage whose construction failed had opened."""
    for name in ("_file", "_tfile"):
        f = getattr(storage, name, None)
        if f is not None:
            _drop_buffer(f)
    lock = getattr(storage, "_lock_file", None)
    if lock is not None:
        try:
            lock.close()
        except OSError:
            pass


# ------------------------------------------------------------ write failures
WRITE_ERRNOS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                errno.EFBIG: "the file size limit is reached", errno.EROFS:
                "the file system is read-only", errno.EIO: "the disk reported an I/O error"}


def write_error(where: str, e: OSError, what: str) -> ImageError:
    """One line for a failed write to the image at `where`."""
    why = WRITE_ERRNOS.get(e.errno or 0) or (e.strerror or str(e))
    return ImageError(f"cannot write to {where}: {why}; {what}")


def _drop_buffer(f: Any) -> None:
    """Close a buffered file without writing what its buffer still holds (the write
    that failed): its descriptor is pointed at /dev/null first."""
    try:
        fd = f.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)
    except (OSError, ValueError):
        pass
    try:
        f.close()
    except (OSError, ValueError):
        pass


def recover(storage: Any) -> None:
    """After a failed write, cut a FileStorage back to its last whole transaction and
    reopen its files, so that nothing half-written stays and later commits can succeed."""
    from ZODB.FileStorage import FileStorage
    if not isinstance(storage, FileStorage) or storage._is_read_only:
        return
    with storage._lock:
        name = storage._file_name
        _drop_buffer(storage._file)
        try:
            os.truncate(name, storage._pos)       # frees space: succeeds on a full disk
        except OSError:
            pass           # FileStorage's next open drops an unfinished tail itself
        storage._file = open(name, "r+b")
        if storage._tfile is not None:
            _drop_buffer(storage._tfile)
            storage._tfile = open(name + ".tmp", "w+b")
            storage._tfmt._file = storage._tfile
        storage._nextpos = 0


def force_close(storage: Any) -> None:
    """Release a FileStorage whose close failed: its files and its lock."""
    close_partial(storage)
    files = getattr(storage, "_files", None)
    if files is not None:
        try:
            files.close()
        except Exception:
            pass
    name = getattr(storage, "_file_name", None)
    if name:
        remove_half_index(name)


def remove_half_index(path: str) -> None:
    """Remove the temporary index FileStorage leaves when it could not finish writing one."""
    try:
        os.unlink(path + ".index.index_tmp")
    except OSError:
        pass


# ------------------------------------------------------------ `world check`
class Check:
    """One row of `world check`: a check's name, whether it passed, and what it found."""

    def __init__(self, name: str, ok: bool, detail: str) -> None:
        self.name, self.ok, self.detail = name, ok, detail

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data."""
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


def _oid_text(oid: bytes) -> str:
    return "0x" + (oid.lstrip(b"\0").hex() or "00")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _captured(fn: Any, *args: Any) -> tuple[str, BaseException | None]:
    """Run a ZODB script's function; what it printed, and what it raised."""
    import contextlib
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            fn(*args)
    except Exception as e:
        return buf.getvalue(), e
    return buf.getvalue(), None


def file_checks(path: str) -> list[Check]:
    """The checks of an image file that read it only: what it recorded against what it
    holds, ZODB's `fstest` (every transaction and data record) and `fsrefs` (every
    reference leads to an object that loads)."""
    from ZODB.scripts import fsrefs, fstest
    rows = []
    try:
        check_image(path)
        rows.append(Check("file", True, f"{os.path.getsize(path)} bytes, ends where it recorded"))
    except ImageError as e:
        rows.append(Check("file", False, e.message))
    if os.path.getsize(path) == 0:
        rows.append(Check("fstest", False, "the file is empty: it holds no transaction"))
        return rows
    printed, err = _captured(fstest.check, path)
    rows.append(Check("fstest", err is None, "every transaction and data record is well formed"
                      if err is None else _one_line(f"{type(err).__name__}: {err}")))
    printed, err = _captured(_fsrefs, fsrefs, path)
    if err is None and not printed.strip():
        rows.append(Check("fsrefs", True, "every reference leads to an object that loads"))
    else:
        bad = [ln for ln in printed.splitlines() if ln.startswith("oid ")]
        detail = (f"{len(bad)} objects refer to missing or unloadable objects: {bad[0]}"
                  if bad else _one_line(printed or f"{type(err).__name__}: {err}"))
        rows.append(Check("fsrefs", False, _one_line(detail)))
    return rows


def _fsrefs(fsrefs: Any, path: str) -> None:
    """`fsrefs.main`, closing the read-only storage it opens."""
    from ZODB.FileStorage import FileStorage
    opened: list[Any] = []

    class Closing(FileStorage):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            opened.append(self)
    real = fsrefs.FileStorage
    fsrefs.FileStorage = Closing
    try:
        fsrefs.main(path)
    finally:
        fsrefs.FileStorage = real
        for fs in opened:
            fs.close()


def record_check(conn: Any, storage: Any, limit: int = 5) -> Check:
    """Load every current object through the world's connection (its allowlist and
    format checks): a damaged record is named by its object id."""
    bad: list[str] = []
    count = 0
    for oid in storage._index.keys():
        count += 1
        try:
            conn.get(oid)._p_activate()
        except ImageError as e:
            bad.append(e.message)
        except Exception as e:          # whatever else a damaged record makes of the loader
            bad.append(f"object {_oid_text(oid)}: {type(e).__name__}: {_one_line(str(e), 120)}")
    if not bad:
        return Check("records", True, f"all {count} objects load")
    more = f" (and {len(bad) - limit} more)" if len(bad) > limit else ""
    return Check("records", False, _one_line(f"{len(bad)} of {count} objects cannot be loaded: "
                                             + "; ".join(bad[:limit]) + more, 600))
