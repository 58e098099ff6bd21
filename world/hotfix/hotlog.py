"""The production image's minimal hot-fix log: who, what, when, outcome.

A production image keeps no history, yet what changed it while it ran must
be answerable. Each apply request, applied or refused, adds one entry to
`settings["hotfix-log"]` (an IOBTree: number -> entry), and each applied
commit's hash is kept against its name in `settings["hotfix-commits"]`, so
an error report can say which commit made the definition it names. An
entry is a tuple of plain values:

    (time, key, names, commits, outcome)
    time: seconds since the epoch; key: the hub's public key (hex);
    names, commits: tuples of strings; outcome: "applied" or "refused: why".

Read it with `(hotfix/log)` or `world serve-prod --log IMAGE`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree

LOG = "hotfix-log"              # settings key: number -> entry
COMMITS = "hotfix-commits"      # settings key: name -> hash of the commit that made it last
TRUSTED = "hotfix-trusted"      # settings key: hub key -> name; when non-empty, only these may apply
OUTCOME_TEXT = 400              # characters of an outcome kept


@dataclass(frozen=True)
class Entry:
    """One apply request and what became of it."""

    number: int
    time: float
    key: str
    names: tuple[str, ...]
    commits: tuple[str, ...]
    outcome: str

    def line(self) -> str:
        """The entry as one line of text."""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.time))
        names = " ".join(self.names) or "-"
        hashes = " ".join(h[:12] for h in self.commits) or "-"
        return f"{self.number} {when}Z {self.key[:16]} {names} [{hashes}] {self.outcome}"


def add(settings: Any, key: str, names: tuple[str, ...], commits: tuple[str, ...],
        outcome: str, when: float | None = None) -> int:
    """Add an entry (inside the running transaction); return its number."""
    log = settings.get(LOG)
    if log is None:
        log = settings[LOG] = IOBTree()
    number = (log.maxKey() + 1) if len(log) else 1
    text = outcome if len(outcome) <= OUTCOME_TEXT else outcome[:OUTCOME_TEXT] + "..."
    log[number] = (float(time.time() if when is None else when), str(key),
                   tuple(map(str, names)), tuple(map(str, commits)), text)
    return number


def entries(settings: Any) -> list[Entry]:
    """Every entry, oldest first (a damaged one is skipped, never a crash)."""
    log = settings.get(LOG)
    out: list[Entry] = []
    if log is None:
        return out
    for number, e in log.items():
        try:
            t, key, names, commits, outcome = e
            out.append(Entry(int(number), float(t), str(key), tuple(names), tuple(commits),
                             str(outcome)))
        except (TypeError, ValueError):
            continue
    return out


def note_commits(settings: Any, made: dict[str, str]) -> None:
    """Record which commit made each name (inside the running transaction)."""
    tree = settings.get(COMMITS)
    if tree is None:
        tree = settings[COMMITS] = OOBTree()
    for name, h in made.items():
        tree[name] = h


def commit_of(settings: Any, name: str) -> str:
    """The hash of the hot-fix commit that last made `name`, or ""."""
    tree = settings.get(COMMITS)
    h = tree.get(name) if tree is not None else None
    return h if type(h) is str else ""


def trusted(settings: Any) -> dict[str, str]:
    """The hub keys this image trusts to apply fixes (empty: whichever hub it dials)."""
    tree = settings.get(TRUSTED)
    return dict(tree.items()) if tree is not None else {}


def trust(settings: Any, key: str, name: str) -> None:
    """Trust hub key `key` (inside the running transaction)."""
    tree = settings.get(TRUSTED)
    if tree is None:
        tree = settings[TRUSTED] = OOBTree()
    tree[key] = name
