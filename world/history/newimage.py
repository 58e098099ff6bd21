"""New image files: what image-writing primitives may create, and how.

Even for the owner, `world/save-dev`, `world/rebuild` and `world/build-prod`
(and the `world rebuild` and `world build-prod` commands) create only a new
file whose name ends in `.fs`: never one that exists, nor one beside which
FileStorage's own files (`.index`, `.lock`, `.tmp`, `.old`, `.pack`) exist.
The image is written under a temporary name in the same directory and linked
to its name only when complete, so an existing file is never overwritten,
even by a race, and a failure leaves nothing behind; success leaves the
image and its `.index`. From Lisp a relative name is resolved against the
directory of the running image (the current directory for a world in
memory); the commands resolve it against the current directory.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import Any, Iterator

from ..lisp.errors import EvalError, SandboxError
from ..lisp.watchdog import shielded

SUFFIX = ".fs"
SIDES = (".index", ".lock", ".tmp", ".old", ".pack")


def show(path: str) -> str:
    """`path` for a one-line message."""
    return path if path.isprintable() else ascii(path)


def base_of(world: Any) -> str:
    """The directory relative names resolve against for `world`'s primitives."""
    path = getattr(world.image, "path", None)
    return os.path.dirname(path) if path else os.getcwd()


def target(who: str, path: Any, base: str | None = None) -> str:
    """The absolute path of the new image `path` names, or a SandboxError saying why not."""
    if type(path) is not str or not path:
        raise SandboxError(f"{who}: refused: the image name must be a non-empty string")
    if "\0" in path:
        raise SandboxError(f"{who}: refused: {show(path)} holds a NUL character")
    name = os.path.basename(path)
    if not name.endswith(SUFFIX) or name == SUFFIX:
        raise SandboxError(f"{who}: refused: {show(path)} does not end in {SUFFIX}")
    full = os.path.abspath(os.path.join(base or os.getcwd(), path))
    folder = os.path.dirname(full)
    if not os.path.isdir(folder):
        raise SandboxError(f"{who}: refused: the directory of {show(path)} does not exist")
    for p in [full] + [full + s for s in SIDES]:
        if os.path.lexists(p):
            raise SandboxError(f"{who}: refused: {show(os.path.basename(p))} already exists")
    return full


def _remove(paths: list[str]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            os.unlink(p)


def _place(who: str, src: str, dest: str) -> None:
    """Give the complete file `src` the new name `dest`, never replacing a file."""
    try:
        os.link(src, dest)
        return
    except FileExistsError:
        raise SandboxError(f"{who}: refused: {show(os.path.basename(dest))} already exists") from None
    except OSError:
        pass                # no hard links here: claim the name exclusively, then move onto it
    try:
        os.close(os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        raise SandboxError(f"{who}: refused: {show(os.path.basename(dest))} already exists") from None
    os.replace(src, dest)


@contextlib.contextmanager
def creating(who: str, final: str) -> Iterator[str]:
    """A temporary path to write an image at; on success it becomes `final`, with its index.

    On any failure everything written is removed and `final` is untouched.
    """
    tmp = f"{final}.{secrets.token_hex(4)}.partial"
    litter = [tmp] + [tmp + s for s in SIDES]
    placed: list[str] = []
    # Writing the image may be stopped (time, Ctrl-C); naming it and cleaning up may not,
    # or a stop landing in the middle would leave half of it behind.
    try:
        yield tmp
        with shielded():
            _place(who, tmp, final)
            placed.append(final)
            if os.path.exists(tmp + ".index"):
                _place(who, tmp + ".index", final + ".index")
                placed.append(final + ".index")
    except OSError as e:
        with shielded():
            _remove(placed)
        raise EvalError(f"{who}: cannot create {show(final)}: {e.strerror or e}") from None
    except BaseException:
        with shielded():
            _remove(placed)
        raise
    finally:
        with shielded():
            _remove(litter)


def drop_old(path: str | None) -> None:
    """Remove the `.old` copy a FileStorage pack of `path` leaves (the owner dropped those revisions)."""
    if path:
        _remove([path + ".old"])
