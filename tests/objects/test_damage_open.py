"""Damage never opens silently: an image cut short, emptied or with a damaged record
is one ImageError line naming it, and it and its index stay byte-for-byte as they were."""
from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

import world
from world.objects import ImageError

FORMS = "(define x 1) (define y (list 1 2 3)) (define (f n) (* n 2))"


def _make(path: str) -> None:
    with world.open(path) as w:
        w.eval(FORMS)
        w.eval("(define z (f 21))")


def _files(folder: Path) -> dict[str, bytes]:
    """The image and its index (FileStorage's own scratch `.tmp` and `.lock` may be rewritten)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if not p.name.endswith((".tmp", ".lock"))}


def _refused(path: str, *words: str) -> str:
    """Opening (and using) the image fails with one ImageError line naming it; nothing changes."""
    folder = Path(path).parent
    before = _files(folder)
    with pytest.raises(ImageError) as info:
        with world.open(path) as w:
            w.eval("(list x y z (f 1))")
    msg = str(info.value)
    assert "\n" not in msg and path in msg, msg
    for word in words:
        assert word in msg, msg
    after = _files(folder)
    if not any(n.endswith(".index") for n in before):    # FileStorage made one for a sound tail
        after = {n: b for n, b in after.items() if not n.endswith(".index")}
    assert after == before, "the image or its index changed"
    assert not any(".tr" in n for n in os.listdir(folder))
    return msg


def test_index_past_the_end(image: str) -> None:
    _make(image)
    data = Path(image).read_bytes()
    Path(image).write_bytes(data[:-100])
    _refused(image, "truncated", f"held {len(data)} bytes")


@pytest.mark.parametrize("cut", [1, 30, 200])
def test_a_committed_transaction_cut_off_without_an_index(image: str, cut: int) -> None:
    _make(image)
    data = Path(image).read_bytes()
    os.unlink(image + ".index")
    Path(image).write_bytes(data[:-cut])
    _refused(image, "truncated or damaged")
    _refused(image, "truncated or damaged")           # still refused, still untouched


def test_an_empty_image_whose_index_says_otherwise(image: str) -> None:
    _make(image)
    size = os.path.getsize(image)
    Path(image).write_bytes(b"")
    _refused(image, "is empty", str(size))


def test_a_damaged_transaction_status_in_the_tail(image: str) -> None:
    _make(image)
    os.unlink(image + ".index")
    data = bytearray(Path(image).read_bytes())
    last = struct.unpack(">Q", data[-8:])[0]
    start = len(data) - last - 8
    data[start + 16:start + 17] = b"X"            # the status byte of the last transaction
    Path(image).write_bytes(bytes(data))
    _refused(image, "damaged")


def test_an_unfinished_last_commit_is_dropped_as_after_a_crash(image: str) -> None:
    _make(image)
    with world.open(image) as w:
        w.eval("(define late 5)")
    os.unlink(image + ".index")                   # a crash leaves an older index, or none
    data = bytearray(Path(image).read_bytes())
    last = struct.unpack(">Q", data[-8:])[0]
    start = len(data) - last - 8
    data[start + 16:start + 17] = b"c"            # checkpoint: the commit never finished
    Path(image).write_bytes(bytes(data[:-20]))    # and its last bytes never reached the disk
    with world.open(image) as w:
        assert world.write(w.eval("(list x y z)")) == "(1 (1 2 3) 42)"
        assert w.eval("(f 4)") == 8


def test_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.fs"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file"):
        world.open(str(fifo))
    assert sorted(os.listdir(tmp_path)) == ["pipe.fs"]
    with pytest.raises(ImageError, match="not a regular file"):
        world.open(os.devnull)
    assert not os.path.exists(os.devnull + ".lock")


# ------------------------------------------------------------ damaged records
DATA_HDR = ">8s8sQQHQ"       # oid, tid, previous record, transaction, version length, data length


def _record_of(path: str, name: str) -> int:
    """Where the current data record of the definition `name` starts."""
    with world.open(path, read_only=True) as w:
        oid = w.image.root.definitions[name]._p_oid
        return w.image.db.storage._index[oid]


def _patch(path: str, pos: int, **fields: object) -> None:
    data = bytearray(Path(path).read_bytes())
    size = struct.calcsize(DATA_HDR)
    head = dict(zip(("oid", "tid", "prev", "tloc", "vlen", "plen"),
                    struct.unpack(DATA_HDR, data[pos:pos + size])))
    head.update(fields)
    data[pos:pos + size] = struct.pack(DATA_HDR, *head.values())
    Path(path).write_bytes(bytes(data))


@pytest.mark.parametrize("fields, index", [
    ({"plen": 1 << 40}, True),                   # a length past the end of the file
    ({"vlen": 7}, True),                          # a version field no image has
    ({"oid": b"\0" * 7 + b"\x99"}, True),         # the index and the record disagree
    ({"oid": b"\0" * 7 + b"\x99"}, False),        # the object is gone from the rebuilt index
    ({"plen": 0}, True),                          # a record that says it was never created
])
def test_a_damaged_record_names_the_image_and_the_object(image: str, fields: dict,
                                                         index: bool) -> None:
    _make(image)
    pos = _record_of(image, "y")
    _patch(image, pos, **fields)
    if not index:
        os.unlink(image + ".index")
    msg = _refused(image)
    assert "object 0x" in msg or "definition of y" in msg, msg


def test_a_damaged_class_name_names_the_definition(image: str) -> None:
    _make(image)
    data = Path(image).read_bytes()
    pos = _record_of(image, "y")
    at = data.index(b"Definition", pos)
    Path(image).write_bytes(data[:at] + b"Defimition" + data[at + 10:])
    msg = _refused(image)
    assert "object 0x" in msg and "Defimition" in msg, msg

