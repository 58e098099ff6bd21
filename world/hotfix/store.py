"""The hub's store in the development world: reports, proposals, the outbox, the token.

It lives in the world root's settings under `hotfix/store` (made by the first
change that needs it), so the hub process and every REPL sharing the world
(through ZEO) see one store: the hub writes the reports production sends,
`(hotfix/propose ID)` a proposal, `(hotfix/accept ID)` an apply into the
outbox, and the hub, watching the world, sends each queued apply over the
open channel and writes the result back.

- `token`: the SHA-256 (hex) of the token production presents; the token
  itself is never stored. `token_ok` compares in constant time.
- `reports`: number -> Report, one persistent object each, so writing one
  report (or its status) rewrites it and one small bucket, never the store.
  `by_uuid` maps production's report id to its number: a report sent twice
  is stored once.
- `outbox`: number -> Apply: what is to be sent to which production image,
  and what became of it.
- `images`: production image uid -> the head it last said it runs (hello,
  error-report, a successful apply), and the key that signed it.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree

from ..objects.format import Versioned

SETTINGS_KEY = "hotfix/store"
STATUSES = ("pending", "proposed", "accepted", "sent", "applied", "failed", "rejected")
TEXT = 64 * 1024            # characters kept of one text field a report carries
RESULT_TEXT = 2_000         # characters kept of an outcome
MAX_REPORTS = 100_000       # reports kept; a production flooding the hub drops its oldest


def abridged(text: str, n: int) -> str:
    """`text` cut to about `n` characters."""
    return text if len(text) <= n else text[:n] + "..."


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a token, as the store keeps it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Report(Versioned):
    """One error report from production, and what became of it."""

    format_version = 1
    number = 0
    uuid = ""
    time = 0.0
    message = ""
    backtrace: tuple[str, ...] = ()
    definitions: tuple[tuple[str, str, str, str], ...] = ()    # (name, source, state, commit)
    head = ""               # production's chain head when it reported
    image = ""              # production image uid
    key = ""                # production's signing key
    status = "pending"
    proposal = ""           # the proposed forms' text, "" if none
    proposal_names: tuple[str, ...] = ()
    diff = ""
    model = ""
    cost = 0.0
    apply = 0               # the outbox number of the accepted fix, 0 if none
    result = ""             # the last outcome, one line
    updated = 0.0

    def __init__(self, number: int, uuid: str, message: str, backtrace: tuple[str, ...],
                 definitions: tuple[tuple[str, str, str, str], ...], head: str, image: str,
                 key: str) -> None:
        self.number, self.uuid = number, uuid
        self.time = self.updated = time.time()
        self.message = abridged(message, TEXT)
        self.backtrace = tuple(abridged(b, 500) for b in backtrace)
        self.definitions = tuple(tuple(abridged(x, TEXT) for x in d) for d in definitions)
        self.head, self.image, self.key = head, image, key

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the definitions the report involves."""
        return tuple(d[0] for d in self.definitions)

    def mark(self, status: str, result: str | None = None) -> None:
        """Set the status (and the last outcome)."""
        assert status in STATUSES
        self.status = status
        if result is not None:
            self.result = abridged(result, RESULT_TEXT)
        self.updated = time.time()

    def summary(self) -> dict[str, Any]:
        """The report as `hotfix/pending` lists it."""
        return {"id": self.number, "uuid": self.uuid, "when": self.time, "message": self.message,
                "image": self.image, "head": self.head, "status": self.status}

    def __repr__(self) -> str:
        return f"<Report {self.number} {self.status}>"


class Apply(Versioned):
    """An accepted fix queued for a production image, and what became of it."""

    format_version = 1
    number = 0
    report = 0
    image = ""
    target = ""             # the development head the fix made: production is brought to it
    names: tuple[str, ...] = ()
    status = "queued"       # then "sent", then "applied" or "failed"
    result = ""
    time = 0.0
    sent = 0.0
    done = 0.0

    def __init__(self, number: int, report: int, image: str, target: str,
                 names: tuple[str, ...]) -> None:
        self.number, self.report, self.image = number, report, image
        self.target, self.names = target, tuple(names)
        self.time = time.time()

    def __repr__(self) -> str:
        return f"<Apply {self.number} report {self.report} {self.status}>"


class Inspection(Versioned):
    """A read-only form to evaluate in a production image, and its answer."""

    format_version = 1
    number = 0
    report = 0
    image = ""
    form = ""               # the form's canonical text
    status = "queued"       # then "sent", then "answered" or "failed"
    value = ""              # the answer's written text
    error = ""
    time = 0.0
    done = 0.0

    def __init__(self, number: int, report: int, image: str, form: str) -> None:
        self.number, self.report, self.image, self.form = number, report, image, form
        self.time = time.time()

    def as_dict(self) -> dict[str, Any]:
        """The inspection as `hotfix/show` lists it."""
        return {"id": self.number, "form": self.form, "status": self.status,
                "value": self.value or None, "error": self.error or None}

    def __repr__(self) -> str:
        return f"<Inspection {self.number} report {self.report} {self.status}>"


class HotfixStore(Versioned):
    """Everything the hub keeps in the development world."""

    format_version = 1
    token = ""                  # SHA-256 hex of the token; "" if none is set
    reports_count = 0
    outbox_count = 0

    def __init__(self) -> None:
        self.reports = IOBTree()        # number -> Report
        self.by_uuid = OOBTree()        # production's report id -> number
        self.outbox = IOBTree()         # number -> Apply
        self.images = OOBTree()         # production image uid -> (head, key, time)
        self.channels = OOBTree()       # "<image uid> <random>" -> when that open channel opened
        self.waiting = OOBTree()        # (image uid, outbox number) of each queued request

    # ------------------------------------------------------------ the token
    def set_token(self, token: str) -> None:
        """Keep `token`'s hash (replacing any); the token itself is not kept."""
        self.token = token_hash(token.strip())

    def token_ok(self, token: Any) -> bool:
        """Whether `token` is the one whose hash is kept (constant time; False if none is set)."""
        if not self.token or type(token) is not str:
            return False
        return hmac.compare_digest(token_hash(token.strip()), self.token)

    # ------------------------------------------------------------ reports
    def add_report(self, uuid: str, message: str, backtrace: tuple[str, ...],
                   definitions: tuple[tuple[str, str, str, str], ...], head: str, image: str,
                   key: str) -> tuple[Report, bool]:
        """Store a report (once per uuid); return it and whether it is new."""
        known = self.by_uuid.get(uuid)
        if known is not None and known in self.reports:
            return self.reports[known], False
        number = self.reports_count + 1
        self.reports_count = number
        r = self.reports[number] = Report(number, uuid, message, backtrace, definitions,
                                          head, image, key)
        self.by_uuid[uuid] = number
        if len(self.reports) > MAX_REPORTS:
            oldest = self.reports.minKey()
            self.by_uuid.pop(self.reports[oldest].uuid, None)
            del self.reports[oldest]
        self.seen(image, head, key)
        return r, True

    def find(self, key: Any) -> Report | None:
        """The report with number `key`, or production's id `key` (a string)."""
        if type(key) is int:
            return self.reports.get(key)
        if type(key) is str:
            n = self.by_uuid.get(key)
            if n is None and key.isdigit():
                n = int(key)
            return self.reports.get(n) if n is not None else None
        return None

    # ------------------------------------------------------------ production images
    def seen(self, image: str, head: str, key: str) -> None:
        """Remember the head production image `image` said it runs."""
        old = self.images.get(image)
        if old is None or old[0] != head or old[1] != key:
            self.images[image] = (head, key, time.time())

    def head_of(self, image: str) -> str | None:
        """The head production image `image` last said it runs."""
        found = self.images.get(image)
        return found[0] if found is not None else None

    def channel_open(self, image: str) -> bool:
        """Whether the hub has a channel open to production image `image` now."""
        prefix = image + " "
        for key in self.channels.keys(min=prefix):
            return key.startswith(prefix)
        return False

    # ------------------------------------------------------------ the outbox
    def set_status(self, request: "Apply | Inspection", status: str) -> None:
        """Set an outbox request's status, keeping the index of queued ones (`waiting`)."""
        key = (request.image, request.number)
        if status == "queued":
            self.waiting[key] = True
        else:
            self.waiting.pop(key, None)
        request.status = status

    def queue(self, report: Report, target: str, names: tuple[str, ...]) -> Apply:
        """Queue an apply of the fix for `report`'s production image."""
        number = self.outbox_count + 1
        self.outbox_count = number
        a = self.outbox[number] = Apply(number, report.number, report.image, target, names)
        self.set_status(a, "queued")
        report.apply = number
        report.mark("accepted", f"queued as apply {number}" + (
            ": the hub sends it over the open channel" if self.channel_open(report.image)
            else f": no channel is open; sent when production {report.image[:12]} next connects"))
        return a

    def ask(self, report: Report, form: str) -> Inspection:
        """Queue an inspect request for `report`'s production image (numbered with the applies:
        a result names either by its number)."""
        number = self.outbox_count + 1
        self.outbox_count = number
        i = self.outbox[number] = Inspection(number, report.number, report.image, form)
        self.set_status(i, "queued")
        return i

    def queued(self, image: str) -> list["Apply | Inspection"]:
        """The requests waiting to be sent to production image `image`, oldest first."""
        keys = self.waiting.keys(min=(image, 0), max=(image, 1 << 62))
        return [self.outbox[n] for _, n in keys if n in self.outbox]

    def waiting_images(self) -> set[str]:
        """The production images some request waits for."""
        return {image for image, _ in self.waiting.keys()}

    def inspections(self, report: int) -> list[Inspection]:
        """The inspect requests made about report `report`, oldest first."""
        return [i for i in self.outbox.values() if type(i) is Inspection and i.report == report]


def channel_key(image: str) -> str:
    """The key of one open channel to `image` in the store's `channels` (several may be open)."""
    return f"{image} {os.urandom(6).hex()}"


def commits_between(hist: Any, base: str, target: str) -> list[Any]:
    """The atomic commits of development history `hist` after `base` up to `target`, oldest
    first, each the parent of the next; ValueError (one line) when there is no such path."""
    from ..history.commits import GENESIS
    start = 0
    if base != GENESIS:
        found = hist.find(base) if len(base) == 64 else None
        if found is None or found.hash != base:
            raise ValueError(f"production runs head {base[:12]}, which development's history "
                             f"does not hold: build production from this world again")
        start = found.seq
    end = hist.find(target) if len(target) == 64 else None
    if end is None or end.hash != target:
        raise ValueError(f"development's head {target[:12]} is not in its history")
    if end.seq <= start:
        raise ValueError(f"production already runs {base[:12]}, at or past the fix")
    out, parent = [], base
    for seq in range(start + 1, end.seq + 1):
        c = hist.commits.get(seq)
        if c is None or c.parent != parent:
            raise ValueError(f"development's history is broken at commit {seq}: run "
                             f"(history/verify)")
        out.append(c)
        parent = c.hash
    return out


def checks_for(root: Any, names: Any) -> list[tuple[str, str]]:
    """(name, "(check EXPECTED EXPR)") for each check recorded against any of `names`."""
    audit = getattr(root, "audit", None)
    if audit is None:
        return []
    wanted = set(names)
    out = []
    for c in audit.against(sorted(wanted)):
        name = next((n for n in c.names if n in wanted), c.names[0] if c.names else "")
        out.append((name, f"(check {c.expected} {c.expr})"))
    return out


def store_of(root: Any) -> HotfixStore | None:
    """The world's hot-fix store, if it has one."""
    found = root.settings.get(SETTINGS_KEY)
    return found if isinstance(found, HotfixStore) else None


def ensure(root: Any) -> HotfixStore:
    """The world's hot-fix store, made (inside the running transaction) if missing."""
    found = store_of(root)
    if found is None:
        found = HotfixStore()
        root.settings[SETTINGS_KEY] = found
    return found


__all__ = ["Apply", "HotfixStore", "Inspection", "Report", "SETTINGS_KEY", "STATUSES",
           "channel_key", "checks_for", "commits_between", "ensure", "store_of", "token_hash"]
