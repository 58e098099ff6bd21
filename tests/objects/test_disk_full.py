"""A full disk, a file size limit, a read-only device or /dev/null as the image: one
error line, no lock, temp or index file left, and a world that goes on from its last
saved form. A real small tmpfs where this user may mount one, else RLIMIT_FSIZE."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

import world
from world.objects import ImageError

ROOT = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """The environment for a child Python that imports this checkout's `world`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _mount(folder: Path, *options: str) -> bool:
    folder.mkdir()
    if os.geteuid() != 0:
        return False
    opts = ",".join(("size=1m", *options))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)],
                          capture_output=True)
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system (skips where this user cannot mount one)."""
    folder = tmp_path / "disk"
    if not _mount(folder):
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder: Path, leave: int = 0) -> Path:
    """Take all the room on `folder`'s file system but `leave` bytes."""
    st = os.statvfs(folder)
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            f.write(b"x" * max(0, st.f_bavail * st.f_frsize - leave))
        except OSError:
            pass
    return filler


def _cli(*args: str, preexec: object = None) -> subprocess.CompletedProcess:
    env = child_env()
    env.pop("WORLD_IMAGE", None)
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120, preexec_fn=preexec, cwd=ROOT)


def _one_error_line(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "image error: " in lines[0] and "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_form_that_fills_the_disk_leaves_the_world_as_it_was(small_disk: Path) -> None:
    image = str(small_disk / "world.fs")
    w = world.open(image)
    try:
        w.eval("(define a 1) (define (f n) (* n 2))")
        filler = _fill(small_disk)
        with pytest.raises(ImageError, match="the disk is full; nothing of this form was saved") as e:
            w.eval("(define big (iota 20000))")
        assert "\n" not in str(e.value) and image in str(e.value)
        with pytest.raises(world.LispError, match="unbound"):
            w.eval("big")
        assert world.write(w.eval("(list a (f 4))")) == "(1 8)"
        filler.unlink()                          # room again: the same session goes on
        w.eval("(define c 3)")
    finally:
        w.close()
    with world.open(image) as w:
        assert world.write(w.eval("(list a c (f 5))")) == "(1 3 10)"
    assert not (small_disk / "world.fs.index.index_tmp").exists()
    assert not any(".tr" in n for n in os.listdir(small_disk))


def test_closing_on_a_full_disk_is_one_line_and_the_image_reopens(small_disk: Path) -> None:
    image = str(small_disk / "world.fs")
    with world.open(image) as w:
        w.eval("(define a 1)")
    w = world.open(image)
    w.eval("(define b (iota 2000))")
    _fill(small_disk)
    try:
        w.eval("(define c (iota 20000))")
    except ImageError:
        pass
    try:
        w.close()                                # its index cannot be written: not an error
    except ImageError as e:
        assert "\n" not in str(e)
    (small_disk / "filler").unlink()
    with world.open(image) as w:
        assert world.write(w.eval("(list a (length b))")) == "(1 2000)"
    assert not (small_disk / "world.fs.index.index_tmp").exists()


def test_a_new_image_on_a_full_disk_leaves_no_file(small_disk: Path) -> None:
    _fill(small_disk)
    proc = _cli("eval", "--world", str(small_disk / "new.fs"), "(define a 1)")
    _one_error_line(proc, "new.fs", "the disk is full")
    assert sorted(os.listdir(small_disk)) == ["filler"]
    with pytest.raises(ImageError, match="the disk is full"):
        world.open(str(small_disk / "new.fs"))
    assert sorted(os.listdir(small_disk)) == ["filler"]


def test_a_read_only_device(tmp_path: Path) -> None:
    disk = tmp_path / "ro"
    if not _mount(disk):
        pytest.skip("mounting a tmpfs needs root")
    try:
        image = disk / "world.fs"
        with world.open(str(image)) as w:
            w.eval("(define a 1)")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        files = sorted(os.listdir(disk))
        _one_error_line(_cli("eval", "--world", str(image), "(define b 2)"), "read-only")
        _one_error_line(_cli("eval", "--world", str(disk / "new.fs"), "1"), "read-only")
        assert sorted(os.listdir(disk)) == files
        proc = _cli("eval", "--read-only", "--world", str(image), "a")
        assert proc.returncode == 0 and proc.stdout.strip() == "1", proc.stderr
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_dev_null_as_the_image() -> None:
    proc = _cli("eval", "--world", os.devnull, "(define a 1)")
    _one_error_line(proc, os.devnull, "not a regular file")
    assert not any(os.path.exists(os.devnull + s) for s in (".lock", ".tmp", ".index"))


# ------------------------------------------------------------ a file size limit
LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)    # a write past the limit fails with EFBIG
import world
image = sys.argv[1]
w = world.open(image)
import os
limit = os.path.getsize(image) + 20_000
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    w.eval("(define big (iota 50000))")
    print("stored")
except world.LispError as e:
    print(str(e))
w.eval("(define small 2)")
w.close()
print("closed")
"""


def _limited(image: str) -> None:
    """Before exec: writes past the image's size plus 20 KB fail (EFBIG, not a signal)."""
    import resource
    import signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = os.path.getsize(image) + 20_000
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_file_size_limit_from_the_python_api(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define (f n) (* n 2))")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(LIMITED), image],
                          capture_output=True, text=True, env=child_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith("the file size limit is reached; nothing of this form was saved")
    assert "\n" not in lines[0] and image in lines[0] and lines[-1] == "closed"
    with world.open(image) as w:
        assert world.write(w.eval("(list a small (f 3))")) == "(1 2 6)"
        with pytest.raises(world.LispError, match="unbound"):
            w.eval("big")


def test_a_file_size_limit_from_the_cli(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1)")
    proc = _cli("eval", "--world", image, "(define big (iota 50000))",
                preexec=lambda: _limited(image))
    _one_error_line(proc, image, "the file size limit is reached")
    with world.open(image) as w:
        assert w.eval("a") == 1
    assert not os.path.exists(image + ".index.index_tmp")
