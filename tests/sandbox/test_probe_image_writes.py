"""Probes: image-writing primitives create only new `.fs` files.

Even for the owner, `world/save-dev`, `world/rebuild` and `world/build-prod`
refuse a name that does not end in `.fs` or that exists (with its FileStorage
siblings), never overwrite anything, and leave no `.old`/`.tmp`/`.lock` or
partial files behind, on success or failure.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import world
from world.history import newimage
from world.lisp.errors import EvalError, LispError, LispTypeError, SandboxError

ROOT = Path(__file__).resolve().parents[2]
WRITERS = ["world/save-dev", "world/rebuild", "world/build-prod"]


@pytest.fixture
def owner(tmp_path: Path):
    """An owner's world on an image in its own directory, with everything committed."""
    (tmp_path / "img").mkdir()
    with world.open(str(tmp_path / "img" / "w.fs")) as w:
        w.eval('(define (f) 41) (commit "f")')
        yield w


def files(d: Path) -> set[str]:
    return {p.name for p in d.iterdir()}


def refused(w, text: str, match: str, kind: type = SandboxError) -> str:
    with pytest.raises(kind, match=match) as e:
        w.eval(text)
    msg = str(e.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def lisp(path: Path | str) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("who", WRITERS)
def test_a_name_without_fs_is_refused(owner, tmp_path: Path, who: str) -> None:
    pth = tmp_path / "x.pth"
    msg = refused(owner, f"({who} {lisp(pth)})", "does not end in .fs")
    assert f"sandbox: {who}: refused: " in msg
    assert not pth.exists() and files(tmp_path) == {"img"}


@pytest.mark.parametrize("who", WRITERS)
def test_an_existing_file_is_never_overwritten(owner, tmp_path: Path, who: str) -> None:
    dest = tmp_path / "dev.fs"
    dest.write_bytes(b"precious")
    refused(owner, f"({who} {lisp(dest)})", "dev.fs already exists")
    assert dest.read_bytes() == b"precious" and files(tmp_path) == {"img", "dev.fs"}


def test_an_empty_existing_file_is_not_overwritten_either(owner, tmp_path: Path) -> None:
    (tmp_path / "empty.fs").touch()
    refused(owner, f"(world/save-dev {lisp(tmp_path / 'empty.fs')})", "already exists")


@pytest.mark.parametrize("side", [".index", ".lock", ".tmp", ".old"])
def test_a_leftover_sibling_is_refused(owner, tmp_path: Path, side: str) -> None:
    (tmp_path / f"dev.fs{side}").write_bytes(b"x")
    refused(owner, f"(world/save-dev {lisp(tmp_path / 'dev.fs')})", f"dev.fs{side} already exists")
    assert not (tmp_path / "dev.fs").exists()


def test_a_symlink_at_the_target_is_refused(owner, tmp_path: Path) -> None:
    (tmp_path / "link.fs").symlink_to(tmp_path / "elsewhere.fs")      # dangling
    refused(owner, f"(world/save-dev {lisp(tmp_path / 'link.fs')})", "link.fs already exists")
    assert not (tmp_path / "elsewhere.fs").exists()


def test_a_directory_at_the_target_is_refused(owner, tmp_path: Path) -> None:
    (tmp_path / "d.fs").mkdir()
    refused(owner, f"(world/save-dev {lisp(tmp_path / 'd.fs')})", "d.fs already exists")


def test_a_directory_that_does_not_exist_is_refused(owner, tmp_path: Path) -> None:
    refused(owner, f"(world/save-dev {lisp(tmp_path / 'no' / 'dev.fs')})", "does not exist")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("name", ["dev.fs\\x0;", "a\\x0;b.fs", ".fs", "dev.fs/", ""])
def test_odd_names_are_refused(owner, tmp_path: Path, name: str) -> None:
    before = files(tmp_path / "img")
    with pytest.raises((SandboxError, LispTypeError)) as e:
        owner.eval(f'(world/save-dev "{name}")')
    assert "\n" not in str(e.value)
    assert files(tmp_path / "img") == before and files(tmp_path) == {"img"}


@pytest.mark.parametrize("arg", ["'dev.fs", "42", "'(\"a.fs\")", "#f"])
def test_a_name_that_is_not_a_string(owner, arg: str) -> None:
    refused(owner, f"(world/save-dev {arg})", "expected a path", LispTypeError)


def test_relative_names_resolve_against_the_image(owner, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    owner.eval('(world/save-dev "dev.fs")')
    assert (tmp_path / "img" / "dev.fs").exists() and not (tmp_path / "dev.fs").exists()


def test_dot_dot_is_allowed_for_a_new_fs_file(owner, tmp_path: Path) -> None:
    owner.eval('(world/save-dev "../up.fs")')
    assert files(tmp_path) == {"img", "up.fs", "up.fs.index"}
    refused(owner, '(world/save-dev "../up.fs")', "up.fs already exists")


def test_no_litter_after_success(owner, tmp_path: Path) -> None:
    before = files(tmp_path / "img")
    owner.eval('(world/save-dev "dev.fs")')
    owner.eval('(world/rebuild "re.fs" :human)')
    owner.eval('(world/build-prod "prod.fs")')            # packs: FileStorage leaves a .old
    new = files(tmp_path / "img") - before
    assert new == {"dev.fs", "dev.fs.index", "re.fs", "re.fs.index", "prod.fs", "prod.fs.index"}
    with world.open(str(tmp_path / "img" / "prod.fs")) as p:
        assert p.eval("(f)") == 41


def test_no_litter_after_refusing_pending_commits(owner, tmp_path: Path) -> None:
    before = files(tmp_path / "img")
    owner.eval("(define g 1)")
    refused(owner, '(world/save-dev "dev.fs")', "pending", LispError)
    refused(owner, '(world/build-prod "prod.fs")', "pending", LispError)
    assert files(tmp_path / "img") == before


def test_no_litter_after_a_failure_while_writing(owner, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from ZODB.FileStorage import FileStorage

    def broken(self, other):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(FileStorage, "copyTransactionsFrom", broken)
    before = files(tmp_path / "img")
    refused(owner, '(world/save-dev "dev.fs")', "cannot create .*No space left", EvalError)
    assert files(tmp_path / "img") == before


def test_a_file_made_during_the_write_is_not_overwritten(tmp_path: Path) -> None:
    """The name is claimed without replacing, so a race loses cleanly."""
    final = str(tmp_path / "race.fs")
    with pytest.raises(SandboxError, match="race.fs already exists"):
        with newimage.creating("world/save-dev", final) as tmp:
            Path(tmp).write_bytes(b"new image")
            Path(tmp + ".lock").write_bytes(b"")
            Path(final).write_bytes(b"theirs")
    assert Path(final).read_bytes() == b"theirs" and files(tmp_path) == {"race.fs"}


def test_pack_leaves_no_old_file(owner, tmp_path: Path) -> None:
    owner.eval("(define f 2) (define f 3)")
    owner.eval("(world/pack)")
    assert not (tmp_path / "img" / "w.fs.old").exists()
    assert owner.eval("f") == 3


def test_the_commands_follow_the_same_rule(tmp_path: Path) -> None:
    src = tmp_path / "src.fs"
    with world.open(str(src)) as w:
        w.eval('(define (f) 1) (commit "f")')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "repl.cli", "build-prod", str(src), "out.pth"],
                       capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert r.returncode == 1 and "does not end in .fs" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "out.pth").exists()


def test_a_save_stopped_at_any_moment_leaves_nothing_half_written(tmp_path: Path) -> None:
    """The watchdog may stop a save-dev anywhere in its writing: then nothing new is left,
    and a save that finished is a whole image."""
    import world as world_pkg
    w = world_pkg.open(tmp_path / "w.fs", out=lambda text: None)
    w.eval("(begin " + " ".join(f"(define (f{i} x) (+ x {i}))" for i in range(300)) + ")")
    w.eval('(commit "many")')
    before = set(os.listdir(tmp_path))
    for i, seconds in enumerate([0.005, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.12]):
        w.limits = world_pkg.Limits(seconds=seconds, steps=10**12)
        try:
            w.eval(f'(world/save-dev "s{i}.fs")')
        except world_pkg.BudgetExceeded as e:
            assert e.budget == "time"
            assert set(os.listdir(tmp_path)) == before
            continue
        made = set(os.listdir(tmp_path)) - before
        assert made == {f"s{i}.fs", f"s{i}.fs.index"}
        with world_pkg.open(tmp_path / f"s{i}.fs", read_only=True) as copy:
            assert copy.eval("(f299 1)") == 300
        before |= made
    w.close()
