"""What a rebuilt or production image records about the world it was built from.

A rebuild writes into the new image's settings the source's atomic chain head
and newest human commit (`source-head`, `source-human-head`); a production
image, which keeps no history, also keeps a manifest: each live name -> the
state hash (see fingerprint.py) its source's history says it has. `verify`
on a production image compares every live definition with that manifest, so
a definition changed, added or removed after the build is a finding.

A build that went ahead over findings (`--force`, `:force #t`) records them
under `forced`; `verify` of the new image reports that as a finding of kind
`forced` for as long as the image lives: a forced image never verifies clean.
"""
from __future__ import annotations

from typing import Any, Callable

from BTrees.OOBTree import OOBTree

from .commits import GENESIS, History
from .fingerprint import ABSENT, state_of

MANIFEST = "manifest"                   # settings key: name -> state hash (production images)
SOURCE_HEAD = "source-head"             # settings key: the source's atomic chain head
SOURCE_HUMAN = "source-human-head"      # settings key: the hash of the source's newest human commit
FORCED = "forced"                       # settings key: the findings a forced build went over
FORCED_LINES = 20                       # findings kept; then one line saying how many more

Add = Callable[[str, str, str], None]   # kind, subject, message


def human_head(hist: History) -> str:
    """The hash of `hist`'s newest human commit (GENESIS if it has none)."""
    if not hist.humans_count:
        return GENESIS
    last = hist.humans.get(hist.humans_count)
    return last.hash if last is not None else GENESIS


def forced_lines(lines: list[str]) -> tuple[str, ...]:
    """The findings a forced build records: the first FORCED_LINES, then how many more."""
    kept = list(lines[:FORCED_LINES])
    if len(lines) > FORCED_LINES:
        kept.append(f"and {len(lines) - FORCED_LINES} more findings")
    return tuple(kept)


def stamp(root: Any, source: History, forced: tuple[str, ...] = (),
          manifest: dict[str, str] | None = None) -> None:
    """Record in `root` (inside a transaction) where it was built from, what a forced build
    went over, and for a production image what should be live."""
    settings = root.settings
    settings[SOURCE_HEAD] = source.head
    settings[SOURCE_HUMAN] = human_head(source)
    if forced:
        settings[FORCED] = tuple(forced)
    if manifest is not None:
        tree = OOBTree()
        tree.update(manifest)
        settings[MANIFEST] = tree


def has_manifest(root: Any) -> bool:
    """Whether `root` is a production image that keeps a manifest."""
    try:
        return root.settings.get(MANIFEST) is not None
    except Exception:           # damaged: `check` has said so
        return True


def check(root: Any, add: Add) -> None:
    """Add a finding for a forced build, and for each live definition of a production image
    that differs from its manifest (or is missing from it, or should be live and is not)."""
    settings = root.settings
    forced = settings.get(FORCED)
    if forced:
        add("forced", "build", f"this image was built with --force over {len(forced)} "
                               f"finding{'s' if len(forced) != 1 else ''}, the first: {forced[0]}")
    manifest = settings.get(MANIFEST)
    if manifest is None or getattr(root, "history", None) is not None:
        return
    defs, macros = root.definitions, root.macros
    live = set(defs.keys()) | set(macros.keys())
    for name in sorted(live | set(manifest.keys())):
        want = manifest.get(name)
        try:
            now = state_of(defs.get(name), macros.get(name))
        except Exception as e:          # a damaged record is a finding, never a crash
            add("damaged", name, f"its definition cannot be loaded: {type(e).__name__}")
            continue
        if want is None:
            add("definition", name, "is defined but the manifest of the build does not list it")
        elif now == ABSENT:
            add("definition", name, "is in the manifest of the build but is not defined")
        elif now != want:
            add("definition", name, "differs from the manifest of the build")
