"""`world pack`: old revisions go, every snapshot still restores, no `.old` copy stays
unless --keep-old; on a file image and through a real ZEO server."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import world
from repl.cli import main
from world.objects.server import Server

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def churn(w: world.World) -> None:
    """A snapshot, then many revisions and snapshotted values that go out of the live world."""
    w.eval('(define (make-counter) (let ((n 0)) (lambda () (set! n (+ n 1)) n))) '
           '(define c (make-counter)) (c) (c) (define data (iota 300)) '
           '(define-record pt x) (define p (make-pt 1)) (define q p)')
    w.eval('(world/save "before" "counter at two")')
    for i in range(15):
        w.eval(f"(define data (iota {400 + i})) (set-pt-x! p {i}) (define junk{i} (iota 50))")
    w.eval("(define c (make-counter)) (undefine 'junk3)")


def restored(w: world.World) -> str:
    """What the world holds once the snapshot is restored."""
    w.restore("before")
    return world.write(w.eval("(list (c) (length data) (pt-x q) (eq? p q))"))


def test_pack_shrinks_a_file_image_keeps_snapshots_and_leaves_no_old_copy(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = str(tmp_path / "world.fs")
    with world.open(image) as w:
        churn(w)
    size = os.path.getsize(image)
    assert main(["pack", "--world", image]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"packed {image}: {size:,} bytes before, ") and out.count("\n") == 1
    after = int(out.split(", ")[1].split()[0].replace(",", ""))
    assert after == os.path.getsize(image) < size
    assert not os.path.exists(image + ".old")
    with world.open(image) as w:                # a fresh process-level open after the pack
        assert restored(w) == "(3 300 1 #t)"
        assert w.eval("(history/verify)") is True


def test_keep_old_keeps_the_pre_pack_copy(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    image = str(tmp_path / "world.fs")
    with world.open(image) as w:
        churn(w)
    size = os.path.getsize(image)
    assert main(["pack", "--world", image, "--keep-old", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["before"] == size and done["after"] < size
    assert done["old-copy"] == image + ".old" and os.path.getsize(image + ".old") == size


def test_pack_through_zeo_keeps_snapshots_and_the_server_keeps_no_old_copy(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = str(tmp_path / "served.fs")
    with Server(image) as server:
        with world.open(zeo=server.address) as w:
            churn(w)
        size = os.path.getsize(image)
        assert main(["pack", "--zeo", server.address]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"packed zeo://{server.address}: ")
        assert os.path.getsize(image) < size and not os.path.exists(image + ".old")
        with world.open(zeo=server.address) as w:
            assert w.eval("(world/pack) 1") == 1        # the Lisp form leaves none either
            assert restored(w) == "(3 300 1 #t)"
        assert not os.path.exists(image + ".old")


@pytest.mark.parametrize("flags, says", [
    (["--memory"], "nothing to pack"),
    (["--read-only"], "drop --read-only"),
    (["--zeo", "127.0.0.1:1", "--keep-old"], "--keep-old is for an image file"),
])
def test_pack_refuses_what_it_cannot_do(flags: list[str], says: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["pack", *flags]
    if "--read-only" in flags:
        with world.open(str(tmp_path / "w.fs")) as w:
            w.eval("(define a 1)")
        args += ["--world", str(tmp_path / "w.fs")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_pack_of_a_missing_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from world.objects.server import free_port
    assert main(["pack", "--zeo", f"127.0.0.1:{free_port()}", "--zeo-timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_pack_of_no_image_creates_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.fs")
    assert main(["pack", "--world", missing]) == 1
    assert "no world image at" in capsys.readouterr().err and not os.path.exists(missing)
