"""A world: one environment you evaluate text in, form by form, kept in a
ZODB database (an image file, a ZEO server, or memory).

Each top-level form is one transaction: committed, with a note naming the
form, when it succeeds; aborted, with the environment put back as it was,
when it fails. A form whose commit conflicts with another session is run
again, here and nowhere else; if the other session changed a name this form
defines, the other session wins and this form gets a clear error.
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import replace
from typing import Any, Callable, Iterable, TypeVar

from ZODB.POSException import ConflictError, StateLoadError

from .lisp.budget import DEFAULT_LIMITS, Limits
from .lisp.env import Environment
from .lisp.errors import LispError, UnboundVariable
from .lisp.primitives import OWNER
from .lisp.printer import write
from .lisp.reader import read, read_spans
from .lisp.runtime import Result, on_big_stack, run
from .lisp.types import Pair, Symbol
from . import history
from .history.record import record_restore
from .audit.checks import recheck
from .evolve import evalprims
from .companion import prims as _companion  # noqa: F401  (registers explain, document!, suggest)
from .objects import prims, snapshots, storable
from . import inspect as _inspect  # noqa: F401  (registers the `inspect` primitive)
from .hotfix import forms as _hotfix_forms  # noqa: F401  (registers the hotfix/ forms)
from .hotfix import prodprims as _hotfix_prod  # noqa: F401  (debug/open, hotfix/log)
from .peer import prims as _peer_prims  # noqa: F401  (peer/trust, peer/trusted, peer/untrust)
from .objects.definitions import Namespace
from .objects.errors import ConcurrentDefinition, ImageError
from .objects.image import Image, iso, note_for
from .objects.lazy import HOMES, WorldEnvironment, home

BEGIN = Symbol("begin")
RETRIES = 20           # every definition extends the one history chain, so sessions collide often
LATE_BINDINGS = 20      # reruns of a form that met a stored name not bound yet, before binding all
BACKOFF = 0.01          # seconds; doubled after each conflicting attempt, jittered
MAX_BACKOFF = 0.2
DEFER_SECONDS = 5.0     # after a conflict, draft history changes rather than extend the head
NOTE_TEXT = 200         # characters of a form written for its note (a built form may be huge)
T = TypeVar("T")


class World:
    """A live world: evaluate text in it; output goes to `out`."""

    route: Callable[[Any], Any] | None = None     # top-level form -> the form to run (evolve)

    def __init__(self, env: Environment | None = None, limits: Limits = DEFAULT_LIMITS,
                 out: Callable[[str], Any] | None = None, image: Image | None = None,
                 caps: Iterable[str] = OWNER) -> None:
        self.image = image or Image.open()
        self.limits = limits
        self.out = out
        self.last: Result | None = None
        self._active = False
        self._after_commit: list[Callable[[], None]] = []
        self.before_commit: list[Callable[[], None]] = []     # run inside the form's transaction
        self.sets_in_form: dict[str, None] = {}     # globals `set!` by the running form
        self.defer_chain = False        # record changes in the history's inbox (history/commits.py)
        self.defer_until = 0.0          # ... until then: a while after meeting a conflict
        self.linking = False            # a link of the inbox is due after this commit
        root = self.image.root
        adopt = env is not None
        if adopt and (len(root.definitions) or len(root.macros)):
            raise ImageError(f"{self.image.where} already holds a world: open it without an environment")
        # The environment must exist under its stored id before any closure loads.
        # `limits` bound the session's forms; the host's own work (seeding the rules) has the defaults
        self.env = env or WorldEnvironment(caps, uid=root.uid)
        HOMES[self.image.conn] = home(self.env)
        self.names = Namespace(root, self.env)
        try:
            self.names.load()
        except StateLoadError as e:
            why = e.__cause__
            detail = why.message if isinstance(why, ImageError) else f"{type(why).__name__}: {why}"
            raise ImageError(f"{self.image.where} cannot be loaded: {detail}") from None
        self.image.write_back_migrated()
        prims.attach(self)
        if adopt:
            self._transact(lambda out: self._adopt(), "world: adopt an environment")
        evalprims.attach(self)
        self.env.hooks.append(self.names.record)
        self.current_form: tuple[Any, str | None] | None = None    # the top-level form running
        history.attach(self)

    def _adopt(self) -> None:
        self.image.root.uid = self.env.uid
        for sym, value in self.env.globals().items():
            self.names.put(sym.name, "define", value, None, self.env.docs.get(sym))
        for sym, value in self.env.macros.items():
            self.names.put(sym.name, "defmacro", value, None, self.env.docs.get(sym), macro=True)

    # ------------------------------------------------------------ evaluation
    def forms(self, text: str, source: str | None = None) -> list[tuple[Any, str]]:
        """The top-level forms of `text`, each with its text as typed."""
        return [(form, text[a:b]) for form, a, b in read_spans(text, source)]

    def eval(self, text: str, steps: int | None = None, source: str | None = None,
             show: Callable[[Any], str] | None = None) -> Any:
        """Evaluate every form in `text`; return the value of the last one (with `show`,
        also rendered within that form's budget, as `self.last.text`)."""
        value = None
        spans = read_spans(text, source)
        for i, (form, a, b) in enumerate(spans):
            try:
                value = self.eval_form(form, steps, source, text[a:b],
                                       show if i == len(spans) - 1 else None).value
            except LispError as e:
                if e.loc is None:       # an atom at top level: it is where its text starts
                    e.loc = (text.count("\n", 0, a) + 1, a - text.rfind("\n", 0, a))
                    e.source = e.source or source
                raise
        return value

    def eval_form(self, form: Any, steps: int | None = None, source: str | None = None,
                  typed: str | None = None, show: Callable[[Any], str] | None = None) -> Result:
        """Evaluate one top-level form as one transaction (the parts of a top-level `begin`
        each run as a top-level form, all in that one transaction); with `show` (e.g.
        `write`), render the value within the form's budget as `Result.text`."""
        limits = self.limits if steps is None else replace(self.limits, steps=steps)
        parts = self._begin_parts(form)
        if self._active:    # evaluated from inside a form: part of its transaction
            return self._run_parts(parts, limits, source, None, show)
        note = note_for(typed if typed is not None else write(form, NOTE_TEXT))
        try:
            result = self._transact(lambda out: self._run_parts(parts, limits, source, out, show,
                                                                typed), note, limits)
        finally:
            self.current_form = None
        self.last = result
        return result

    def _begin_parts(self, form: Any) -> list[Any]:
        """The top-level forms `form` stands for: itself, or a top-level `begin`'s parts (flattened)."""
        if type(form) is not Pair or form.car is not BEGIN or form.cdr is None \
                or self.env.is_bound(BEGIN):
            return [form]
        parts: list[Any] = []
        x = form.cdr
        while type(x) is Pair:
            parts.append(x.car)
            x = x.cdr
        if x is not None:
            return [form]                   # (begin . x): the evaluator reports it
        return [p for part in parts for p in self._begin_parts(part)]

    def _run_parts(self, parts: list[Any], limits: Limits, source: str | None,
                   out: list[str] | None, show: Callable[[Any], str] | None,
                   typed: str | None = None) -> Result:
        """Run each part as a top-level form (`out` given) or as part of the running one, in
        the running transaction, the parts sharing the form's one budget."""
        buf = out if out is not None else []
        steps = memory = host = 0
        started = time.monotonic()
        r: Result | None = None
        for i, part in enumerate(parts):
            if self.route is not None:
                part = self.route(part)
            if type(self.env) is WorldEnvironment:
                self.env.prepare(part)      # bind the stored names the part mentions
            left = limits if i == 0 else replace(
                limits, steps=max(0, limits.steps - steps), memory=max(0, limits.memory - memory),
                seconds=max(0.0, limits.seconds - (time.monotonic() - started)),
                output=max(0, limits.output - sum(map(len, buf))))
            if out is not None:             # each part is recorded as the top-level form it is
                self.current_form = (part, typed if len(parts) == 1 else None)
            r = run(self.env, part, left, source, out=buf, show=show if i == len(parts) - 1 else None)
            steps, memory, host = steps + r.steps, memory + r.memory, host + r.host
        assert r is not None
        if out is not None and self.names.touched:     # the checks its definitions now break
            lines, spent = recheck(self, list(self.names.touched), limits, steps,
                                   time.monotonic() - started)
            buf.extend(lines)
            steps, host = steps + spent, host + spent
        return Result(r.value, steps, "".join(buf), memory, r.text, host)

    def _transact(self, work: Callable[[list[str]], T], note: str,
                  limits: Limits | None = None) -> T:
        """Run `work` in one transaction, again on a write conflict (the one place that retries)."""
        late = 0
        attempt = -1
        while attempt < RETRIES - 1:
            attempt += 1
            out: list[str] = []
            self.image.begin()
            self.names.refresh()
            self.sets_in_form = {}
            self.defer_chain = time.monotonic() < self.defer_until
            self.linking = False
            try:
                self._active = True
                started = time.monotonic()
                try:
                    value = work(out)
                    for finish in self.before_commit:
                        on_big_stack(finish)
                finally:
                    self._active = False
                # on the evaluation thread, where every meter runs: the meters form one chain
                on_big_stack(lambda: self._check_storable(value, limits or self.limits, started))
                self.image.commit(note, self.names.touched)
            except ConflictError:
                self.image.abort()
                touched = self.names.rollback()
                self._after_commit.clear()
                self.defer_until = time.monotonic() + DEFER_SECONDS
                self.image.begin()
                self.names.refresh()
                clash = self.names.clashes(touched)
                if clash or attempt == RETRIES - 1:
                    self._deliver(out)
                    raise ConcurrentDefinition(self._conflict_message(clash)) from None
                time.sleep(random.uniform(0, min(MAX_BACKOFF, BACKOFF * 2 ** attempt)))   # let the other finish
                continue
            except UnboundVariable as e:
                self.image.abort()
                self.names.rollback()
                self._after_commit.clear()
                if not self._bind_late(e.message, late):
                    self._deliver(out)
                    e.hint()            # "did you mean": while the world is open to ask
                    raise
                late += 1
                attempt -= 1                # not a conflict: run the form again as if new
                continue
            except BaseException:
                self.image.abort()
                self.names.rollback()
                self._after_commit.clear()
                self._deliver(out)
                raise
            self.names.committed()
            self.image.write_back_migrated()        # old-format objects this form loaded
            self._deliver(out)
            self._run_after_commit()
            return value
        raise AssertionError("unreachable")

    def _check_storable(self, value: Any, limits: Limits, started: float) -> None:
        """Walk what the commit will store, charged to what is left of the form's budget."""
        spent = value.steps if type(value) is Result else 0
        names = self.names
        defined = [tree.get(n) for n in names.touched for tree in (names.defs, names.macros)]
        steps = storable.check(defined, storable.changed_objects(self.image.conn), limits,
                               spent, time.monotonic() - started)
        if type(value) is Result:
            value.steps += steps
            value.host += steps

    def _bind_late(self, name: str, late: int) -> bool:
        """A form met stored `name` unbound (code built at run time): bind it; False if not stored."""
        try:
            sym = read(name)                # the error writes the name as the reader reads it
        except LispError:
            return False
        if type(sym) is not Symbol:
            return False
        name = sym.name
        if late < LATE_BINDINGS:
            return self.names.ensure(name)
        bound = name in self.names.loaded
        self.names.load_all()
        return not bound and name in self.names.loaded

    @staticmethod
    def _conflict_message(clash: list[str]) -> str:
        if not clash:
            return f"gave up after {RETRIES} attempts that conflicted with other sessions: try again"
        return (f"{', '.join(clash)} changed in another session while this form ran; "
                f"that change was kept: evaluate the form again to replace it")

    def _deliver(self, out: list[str]) -> None:
        if out and self.out is not None:
            self.out("".join(out))

    def _run_after_commit(self) -> None:
        todo, self._after_commit = self._after_commit, []
        for action in todo:
            action()

    def _change(self, work: Callable[[], T], note: str) -> T:
        """Run `work` inside the current form's transaction, or in one of its own."""
        if self._active:
            return work()
        return self._transact(lambda out: work(), note)

    # ------------------------------------------------------------ snapshots and upkeep
    def save(self, name: str, note: str = "") -> dict[str, Any]:
        """Record a named snapshot of every definition; return its summary."""
        def work() -> snapshots.Snapshot:
            snap = snapshots.save(self.names, name, note, self.image.db.lastTransaction())
            hist = getattr(self.image.root, "history", None)
            if hist is not None:
                snap.head = hist.head       # what `verify` checks the snapshot against
            return snap
        snap = self._change(work, f"world: save snapshot {name}")
        return self._summary(snap)

    def snapshots(self) -> list[dict[str, Any]]:
        """Summaries of the saved snapshots, oldest first."""
        snaps = sorted(self.image.root.snapshots.values(), key=lambda s: s.time)
        return [self._summary(s) for s in snaps]

    @staticmethod
    def _summary(snap: snapshots.Snapshot) -> dict[str, Any]:
        return {"name": snap.name, "time": iso(snap.time), "note": snap.note,
                "definitions": len(snap.definitions)}

    def snapshot_values(self, name: str) -> dict[str, Any]:
        """A copy of each definition's value in snapshot `name`."""
        defs, _ = snapshots.contents(snapshots.find(self.names, name), self.env)
        return {n: entry[1] for n, entry in defs}

    def restore(self, name: str) -> int:
        """Make the world equal to snapshot `name`; return how many names were set."""
        def work() -> int:
            changed = snapshots.restore(self.names, snapshots.find(self.names, name))
            record_restore(self)
            return changed
        return self._change(work, f"world: restore snapshot {name}")

    def pack_after_commit(self) -> None:
        """Pack the image once the running form has committed (or now, outside a form)."""
        if self._active:
            self._after_commit.append(self.image.pack)
        else:
            self.image.pack()

    def pack(self) -> None:
        """Drop old revisions from the image."""
        self.image.pack()

    def info(self) -> dict[str, Any]:
        """Facts about the image: path, size, objects, definitions, last transaction, format."""
        return self.image.info()

    def close(self) -> None:
        """Close the image; the world object is unusable afterwards."""
        if self.names.record in self.env.hooks:
            self.env.hooks.remove(self.names.record)
        history.detach(self)
        if type(self.env) is WorldEnvironment:
            self.env.binder = None          # nothing more loads from the closed database
        self.image.close()

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open(path: str | os.PathLike | None = None, *, zeo: str | None = None,
         limits: Limits = DEFAULT_LIMITS, out: Callable[[str], Any] | None = None,
         read_only: bool = False, relstorage: str | None = None, storage: Any = None,
         caps: Iterable[str] = OWNER, tls: str | os.PathLike | None = None,
         zeo_timeout: float | None = None) -> World:
    """The world in the image at `path`, on the ZEO server at `zeo` (over TLS with the
    certificates in the directory `tls`, see `world tls-init`), in the PostgreSQL
    database `relstorage` (a DSN), in a ZODB `storage`, or a new one in memory. Over ZEO a
    form waits at most `zeo_timeout` seconds (default 10) for a lost server, then fails
    with one `ServerLost` line; the client reconnects by itself once the server is back.

    The session is granted the capability groups `caps`: by default all of them, as
    the owner's own sessions are; pass fewer to open a world for a less trusted program."""
    image = Image.open(None if path is None else os.fspath(path), zeo=zeo, read_only=read_only,
                       relstorage=relstorage, storage=storage,
                       tls=None if tls is None else os.fspath(tls), zeo_timeout=zeo_timeout)
    try:
        return World(limits=limits, out=out, image=image, caps=caps)
    except BaseException:
        image.close()
        raise
