"""Building new images from a world: rebuilds, production images and development copies.

It sits above the session and the history: it verifies the source world's
history (`views.findings`) and refuses to build from a world that does not
verify, naming the first finding, so that tampering never reaches a new
image; `force` builds regardless and records the findings it went over in
the new image (see history/provenance.py), whose `verify` then says so. It
hands the history's replayer a factory making a `World`, so `world/history`
never needs the session.

    (world/rebuild "new.fs" [:atomic|:human] [:force #t])
    (world/build-prod "prod.fs" [:force #t])
    (world/save-dev "dev.fs" [:force #t])
"""
from __future__ import annotations

import time
from typing import Any

from .history import views
from .history.images import save_dev as copy_image
from .history.newimage import base_of, creating, target
from .history.provenance import forced_lines
from .history.rebuild import Progress, RebuildReport, replay
from .history.record import history_of, refuse_pending
from .lisp.errors import EvalError, LispTypeError
from .lisp.primitives import primitive
from .lisp.types import Keyword, LispMap, Symbol, make_list
from .objects.image import Image
from .objects.prims import _world, as_map
from .session import World


class Unverified(EvalError):
    """The source world's history does not verify, so nothing is built from it."""

    kind = "unverified"


def gate(source: Any, who: str, force: bool) -> tuple[str, ...]:
    """The source's findings as lines if `force`; refuse (Unverified, naming the first) if
    there are any and not `force`; () if it verifies."""
    found = views.findings(source.image.root)
    if not found:
        return ()
    if not force:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise Unverified(f"{who}: refused: the source does not verify: {found[0].line()}{more}; "
                         f"see `world history verify`; --force (:force #t) builds anyway")
    return forced_lines([f.line() for f in found])


def rebuild(source: Any, dest: str, mode: str = "atomic", production: bool = False,
            progress: Progress | None = None, base: str | None = None,
            force: bool = False) -> RebuildReport:
    """Verify `source`, then replay its history (atomic or human; production: human, with no
    history or audit objects kept) into a new `.fs` image at `dest` (relative to `base`)."""
    who = "world/build-prod" if production else "world/rebuild"
    if mode not in ("atomic", "human"):
        raise EvalError(f"{who}: unknown history {mode!r}: expected atomic or human")
    if history_of(source) is None:
        raise EvalError(f"{who}: the source is a production image: it keeps no history")
    if production:
        mode = "human"
        refuse_pending(source, "build-prod")
    final = target(who, dest, base)
    started = time.perf_counter()
    forced = gate(source, who, force)
    with views.no_gc(), creating(who, final) as tmp:
        report = replay(source, tmp, mode, production, lambda image: _world_on(image, source),
                        progress, forced)
        report.dest = final
    report.seconds = time.perf_counter() - started
    return report


def build_prod(source: Any, dest: str, progress: Progress | None = None,
               base: str | None = None, force: bool = False) -> RebuildReport:
    """A production image of `source`'s human history (see `rebuild`)."""
    return rebuild(source, dest, "human", True, progress, base, force)


def save_dev(world: Any, path: str, base: str | None = None, force: bool = False) -> dict[str, Any]:
    """Verify `world`, then copy it whole, history and all, into a new `.fs` image at `path`;
    a forced copy records the findings it went over."""
    refuse_pending(world, "world/save-dev")
    forced = gate(world, "world/save-dev", force)
    out = copy_image(world, path, base, forced)
    if forced:
        out["forced"] = len(forced)
    return out


def _world_on(image: Image, source: Any) -> World:
    """A world evaluating in `image` under `source`'s limits."""
    return World(limits=source.limits, image=image)


# ---------------------------------------------------------------- primitives

def _options(who: str, opts: tuple[Any, ...], modes: tuple[str, ...]) -> tuple[str | None, bool]:
    """A history mode keyword (one of `modes`) and `:force #t|#f`, in any order."""
    mode, force, i = None, False, 0
    while i < len(opts):
        o = opts[i]
        if type(o) is Keyword and o.name == "force":
            if i + 1 >= len(opts) or type(opts[i + 1]) is not bool:
                raise LispTypeError(f"{who}: :force takes #t or #f")
            force, i = opts[i + 1], i + 2
            continue
        if type(o) is Keyword and o.name in modes and mode is None:
            mode, i = o.name, i + 1
            continue
        raise LispTypeError(f"{who}: the options are :atomic or :human, and :force #t" if modes
                            else f"{who}: the only option is :force #t")
    return mode, force


def _dest(who: str, dest: Any) -> str:
    if type(dest) is not str or not dest:
        raise LispTypeError(f"{who}: expected a destination path (a string)")
    return dest


def report_map(r: RebuildReport) -> LispMap:
    """A rebuild report as a Lisp map."""
    return as_map({"mode": Keyword(r.mode), "dest": r.dest, "production": r.production,
                   "replayed": r.replayed, "definitions": r.definitions, "ok": r.ok,
                   "mismatches": make_list([Symbol(m[0]) for m in r.mismatches]),
                   "errors": make_list([f"{s}: {m}" for s, m in r.errors]),
                   "checks-passed": len(r.checks) - len(r.failed_checks),
                   "checks-failed": len(r.failed_checks), "size": r.size,
                   "source-size": r.source_size, "seconds": round(r.seconds, 3),
                   "forced": make_list(list(r.forced))})


@primitive("world/save-dev", group="image", unsafe=True)
def world_save_dev(path: Any, *opts: Any) -> LispMap:
    """(world/save-dev "path" [:force #t]) writes a development image: the whole world and
    history; refused while commits are pending or the history does not verify."""
    if type(path) is not str or not path:
        raise LispTypeError("world/save-dev: expected a path (a string)")
    _, force = _options("world/save-dev", opts, ())
    w = _world("world/save-dev")
    return as_map(save_dev(w, path, base_of(w), force))


@primitive("world/rebuild", group="image", unsafe=True)
def world_rebuild(dest: Any, *opts: Any) -> LispMap:
    """(world/rebuild "dest" [:atomic|:human] [:force #t]) replays this world's history into
    a new image; refused if the history does not verify."""
    dest = _dest("world/rebuild", dest)
    mode, force = _options("world/rebuild", opts, ("atomic", "human"))
    w = _world("world/rebuild")
    return report_map(rebuild(w, dest, mode or "atomic", base=base_of(w), force=force))


@primitive("world/build-prod", group="image", unsafe=True)
def world_build_prod(dest: Any, *opts: Any) -> LispMap:
    """(world/build-prod "dest" [:force #t]) builds a production image from human history;
    refused if the history does not verify."""
    dest = _dest("world/build-prod", dest)
    _, force = _options("world/build-prod", opts, ())
    w = _world("world/build-prod")
    return report_map(build_prod(w, dest, base=base_of(w), force=force))
