"""Applying a hot-fix to a production image, in one transaction or not at all.

An apply request carries atomic commits of the development history and the
checks recorded for their definitions. Production applies them only if

1. the frame was signed by the hub the welcome named (and, when the image
   trusts hub keys, by one of those: hotlog.TRUSTED);
2. `:base` is production's head (settings `source-head`), the first commit's
   parent is that head, each next commit's parent is the one before, and
   every hash recomputes from its fields (history/commits.py);
3. evaluating each commit's source (commits a production image never keeps,
   rules, are chained but not evaluated, as build-prod skips them) leaves
   each name in exactly the state its commit recorded;
4. every carried check `(check EXPECTED EXPR)` passes against the new code.

Then the manifest, `source-head` and the hot-fix log change in that same
transaction. Any failure aborts it: the old definitions stay live, and a
log entry saying why is committed on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..audit.checks import evaluate
from ..history.fingerprint import ABSENT
from ..history.provenance import MANIFEST, SOURCE_HEAD
from ..history.rebuild import SKIP_IN_PRODUCTION, forms_of
from ..history.record import run_top, state
from ..lisp.errors import EvalError, LispError, MessageError
from ..lisp.printer import write
from ..lisp.reader import read_all
from ..lisp.types import Pair, Symbol
from . import hotlog
from .protocol import GENESIS, Frame, commit_fields, commit_hash, one_line

CHECK = Symbol("check")


class HotfixRefused(EvalError):
    """A hot-fix production will not apply; nothing of it was applied."""

    kind = "hotfix refused"


@dataclass(frozen=True)
class Commit:
    """An atomic commit as an apply frame carries it (the attributes rebuild.forms_of reads)."""

    hash: str
    parent: str
    seq: int
    kind: str
    symbol: str
    source: str
    typed: str
    state: str | None


def head_of(root: Any) -> str:
    """The production image's head: the source chain head it was built from or last fixed to."""
    h = root.settings.get(SOURCE_HEAD)
    return h if type(h) is str else GENESIS


def chain(frame: Frame, head: str) -> list[Commit]:
    """The frame's commits if they extend `head` and every hash recomputes; HotfixRefused otherwise."""
    base = frame.get("base")
    if base != head:
        raise HotfixRefused(f"apply: refused: :base {base[:12]} is not production's head "
                            f"{head[:12]}")
    if not frame.get("commits"):
        raise HotfixRefused("apply: refused: no commits")
    out: list[Commit] = []
    parent = head
    for m in frame.get("commits"):
        try:
            h, par, fields = commit_fields(m)
        except MessageError as e:
            raise HotfixRefused(f"apply: refused: {e.message}") from None
        if par != parent:
            raise HotfixRefused(f"apply: refused: commit {h[:12]} does not extend production's "
                                f"head (its parent is {par[:12]}, expected {parent[:12]})")
        if commit_hash(par, fields) != h:
            raise HotfixRefused(f"apply: refused: commit {h[:12]}'s hash does not match its "
                                f"fields")
        out.append(Commit(h, par, fields["seq"], fields["kind"], fields["symbol"],
                          fields["source"], fields["typed"], fields.get("state")))
        parent = h
    return out


def checks_of(frame: Frame) -> list[tuple[str, Any, Any]]:
    """(name, expected, expr) of each carried `(check EXPECTED EXPR)`; HotfixRefused if malformed."""
    out = []
    for m in frame.get("checks", ()):
        name, source = m.get(_k("name")), m.get(_k("source"))
        try:
            forms = read_all(source, "<check>")
        except LispError as e:
            raise HotfixRefused(f"apply: refused: a check for {name} does not read: {e}") from None
        f = forms[0] if len(forms) == 1 else None
        items = []
        while type(f) is Pair:
            items.append(f.car)
            f = f.cdr
        if f is not None or len(items) != 3 or items[0] is not CHECK:
            raise HotfixRefused(f"apply: refused: a check for {name} is not "
                                f"(check EXPECTED EXPR)")
        out.append((name, items[1], items[2]))
    return out


def _k(name: str) -> Any:
    from ..lisp.types import Keyword
    return Keyword(name)


def authorize(root: Any, frame: Frame, hub_key: str | None) -> None:
    """Refuse a frame not signed by the welcomed hub, or by a hub key the image does not trust."""
    if hub_key is None or frame.key != hub_key:
        raise HotfixRefused("apply: refused: not signed by the hub this channel welcomed")
    trusted = hotlog.trusted(root.settings)
    if trusted and frame.key not in trusted:
        raise HotfixRefused(f"apply: refused: hub key {frame.key[:16]} is not one this image "
                            f"trusts (world serve-prod --trust-hub KEY)")


def apply(world: Any, frame: Frame, hub_key: str | None) -> dict[str, Any]:
    """Apply the fix `frame` carries in one transaction (see the module); the summary, or
    HotfixRefused (one line) with production unchanged and the refusal logged."""
    root = world.image.root
    names: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    try:
        for m in frame.get("commits") or ():
            try:
                h, _, fields = commit_fields(m)
                names += (fields["symbol"],)
                hashes += (h,)
            except MessageError:
                break
        authorize(root, frame, hub_key)
        commits = chain(frame, head_of(root))
        checks = checks_of(frame)
        return world._change(lambda: _apply(world, frame.key, commits, checks),
                             f"hotfix: apply {' '.join(names)[:120]}")
    except LispError as e:
        why = e.message if isinstance(e, HotfixRefused) else f"apply: refused: {one_line(e)}"
        try:
            world._change(lambda: hotlog.add(root.settings, frame.key, names, hashes,
                                             why.replace("apply: ", "", 1)),
                          "hotfix: log a refused apply")
        except LispError:
            pass                        # the refusal matters more than its log entry
        if isinstance(e, HotfixRefused):
            raise
        raise HotfixRefused(why) from None


def _apply(world: Any, key: str, commits: list[Commit], checks: list[tuple[str, Any, Any]]
           ) -> dict[str, Any]:
    """Inside the transaction: evaluate, compare states, run checks, then record."""
    names = world.names
    for form in forms_of(commits, SKIP_IN_PRODUCTION):
        if form.kind == "undefine" and all(c.symbol not in names.defs and
                                           c.symbol not in names.macros for c in form.commits):
            continue                    # undefining a rule, which a production image never had
        forms = read_all(form.source, "<hotfix>")
        if len(forms) != 1:
            raise HotfixRefused(f"apply: refused: commit {form.commits[0].hash[:12]}'s source "
                                f"holds {len(forms)} forms")
        try:
            run_top(world, forms[0], form.typed, "<hotfix>")
        except LispError as e:
            raise HotfixRefused(f"apply: refused: evaluating {form.commits[0].symbol} failed: "
                                f"{one_line(e)}") from None
        for c in form.commits:
            if c.state is not None and state(world, c.symbol) != c.state:
                raise HotfixRefused(f"apply: refused: {c.symbol} does not come out in the state "
                                    f"commit {c.hash[:12]} recorded")
    others = set(world.names.touched) - {c.symbol for c in commits}
    if others:
        raise HotfixRefused(f"apply: refused: evaluating the commits also changed "
                            f"{', '.join(sorted(others)[:5])}, which no commit names")
    for i, (name, expected, expr) in enumerate(checks, 1):
        o = evaluate(world, expected, expr, i)
        if not o.passed:
            got = o.error if o.error is not None else write(o.actual, 80)
            raise HotfixRefused(f"apply: refused: check {i} for {name} failed: "
                                f"{write(expr, 80)} gave {got}, expected {write(o.expected, 80)}")
    settings = world.image.root.settings
    manifest = settings.get(MANIFEST)
    made: dict[str, str] = {}
    touched = {c.symbol for c in commits if c.kind not in SKIP_IN_PRODUCTION}
    for name in sorted(touched):
        now = state(world, name)
        if manifest is not None:
            if now == ABSENT:
                if name in manifest:
                    del manifest[name]
            else:
                manifest[name] = now
    for c in commits:
        made[c.symbol] = c.hash
    hotlog.note_commits(settings, made)
    settings[SOURCE_HEAD] = commits[-1].hash
    number = hotlog.add(settings, key, tuple(c.symbol for c in commits),
                        tuple(c.hash for c in commits), "applied")
    return {"applied": len(commits), "names": sorted({c.symbol for c in commits}),
            "head": commits[-1].hash, "checks": len(checks), "log": number}
