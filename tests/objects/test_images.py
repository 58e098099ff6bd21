"""Bad images: each gives one clear line naming the path, and the file is untouched."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

import world
from world.objects import ImageError
from world.objects import storage


def _refused(path: str, match: str, **kw: object) -> str:
    with pytest.raises(ImageError, match=match) as info:
        world.open(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg and path in msg
    return msg


def _image(path: str) -> bytes:
    with world.open(path) as w:
        w.eval("(define x 1) (define y (iota 100))")
    return Path(path).read_bytes()


def test_a_file_that_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.fs"
    path.write_text("my precious notes\n")
    _refused(str(path), "not a world image")
    assert path.read_text() == "my precious notes\n"
    assert sorted(os.listdir(tmp_path)) == ["notes.fs"]


def test_a_truncated_image(image: str) -> None:
    data = _image(image)
    Path(image).write_bytes(data[:-200])
    _refused(image, "truncated")
    assert Path(image).read_bytes() == data[:-200]
    Path(image).write_bytes(data[:2])
    _refused(image, "truncated")
    assert Path(image).read_bytes() == data[:2]


def test_a_locked_image(image: str, spawn_py: Callable) -> None:
    data = _image(image)
    holder = spawn_py("""
        import sys, world
        w = world.open(sys.argv[1])
        print("open", flush=True)
        sys.stdin.read()
        """, image)
    try:
        assert holder.stdout.readline().strip() == "open"
        msg = _refused(image, "in use by another process")
        assert str(holder.pid) in msg and "world serve" in msg
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        holder.stderr.close()
    assert Path(image).read_bytes() == data
    with world.open(image) as w:
        assert w.eval("x") == 1


def test_an_image_already_open_in_this_process(image: str) -> None:
    with world.open(image):
        _refused(image, "already open in this process")


def test_a_read_only_directory(read_only_dir: Path) -> None:
    _refused(str(read_only_dir / "world.fs"), "cannot create .* not writable")
    _refused(str(read_only_dir / "sub" / "world.fs"), "cannot create")


def test_a_directory_is_not_an_image(tmp_path: Path) -> None:
    _refused(str(tmp_path), "is a directory")


def test_a_zodb_database_that_is_not_a_world(tmp_path: Path) -> None:
    import ZODB
    path = str(tmp_path / "other.fs")
    db = ZODB.DB(path)
    with db.transaction() as conn:
        conn.root()["app"] = 1
    db.close()
    _refused(path, "not a world image")


def test_read_only_open_of_a_missing_image(tmp_path: Path) -> None:
    path = str(tmp_path / "none.fs")
    _refused(path, "no world image", read_only=True)
    assert not os.path.exists(path)


def test_no_zeo_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "ZEO_TIMEOUT", 0.5)
    from world.objects.server import free_port
    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(ImageError, match=f"no ZEO server answers at {address}"):
        world.open(zeo=address)
    with pytest.raises(ImageError, match="expected HOST:PORT"):
        world.open(zeo="nowhere")
