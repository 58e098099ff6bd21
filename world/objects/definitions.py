"""Definitions and namespaces: every global name of a world as a persistent
object, and the bridge that keeps an environment equal to them.

A `Definition` holds one name's value, kind (`define`, `defmacro`,
`define-record`), canonical source text, docstring and a version counter
that goes up with every change. `definitions` and `macros` in the world root
are `OOBTree`s from name to Definition: a new name touches one bucket, a
redefinition only its own Definition, so sessions changing different names
do not conflict. Values are stored as they are: procedures as templates and
captured values, boxes and records as persistent objects of their own, so two
definitions sharing one keep sharing it after a reload.
"""
from __future__ import annotations

import gc
import time
import weakref
from typing import Any, Iterable

from ZODB.POSException import POSKeyError, StateLoadError

from ..lisp.env import Environment
from ..lisp.errors import LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Primitive, Symbol
from .damage import RecordError
from .errors import ImageError
from .format import Versioned
from .lazy import WorldEnvironment
from .root import WorldRoot

PREFETCH = 100_000         # records asked for in one batch when loading over ZEO
# Definitions invalidated in a connection (changed by another session, or
# rolled back), waiting for `Namespace.refresh` to rebind their names.
STALE: "weakref.WeakKeyDictionary[Any, list[Definition]]" = weakref.WeakKeyDictionary()


class Definition(Versioned):
    """One global name: value, kind, source, doc, and how often it changed."""

    # 1: `form` held the source as Lisp data, no version or time;
    # 2: `source` is canonical text, `version` and `time` added.
    format_version = 2
    name = ""
    kind = "define"
    value: Any = None
    source: str | None = None
    doc: str | None = None
    version = 0
    time = 0.0

    def __init__(self, name: str, kind: str, value: Any, source: str | None,
                 doc: str | None) -> None:
        self.name = name
        self.update(kind, value, source, doc)

    def update(self, kind: str, value: Any, source: str | None, doc: str | None) -> None:
        """Give the name a new definition."""
        self.kind, self.value, self.source, self.doc = kind, value, source, doc
        self.version += 1
        self.time = time.time()

    def assign(self, value: Any) -> None:
        """A global `set!`: a new value under the same definition."""
        self.value = value
        self.version += 1
        self.time = time.time()

    @property
    def form(self) -> Any:
        """The defining form as Lisp data (None if it has no readable source)."""
        try:
            return read(self.source) if self.source else None
        except LispError:
            return None

    def migrate_1(self, state: dict[str, Any]) -> dict[str, Any]:
        """Format 1 -> 2: source text instead of a form; version and time."""
        form = state.pop("form", None)
        state.setdefault("source", None if form is None else write(form))
        state.setdefault("version", 1)
        state.setdefault("time", 0.0)
        return state

    def _p_deactivate(self) -> None:
        """Stay loaded: the environment holds the value anyway."""

    def _p_invalidate(self) -> None:
        # A ghost was never bound in an environment (bound ones stay loaded): nothing to redo.
        stale = STALE.get(self._p_jar) if self._p_jar is not None else None
        if stale is not None and self._p_changed is not None:
            stale.append(self)
        super()._p_invalidate()

    def __repr__(self) -> str:
        return f"<Definition {self.name} v{self.version}>"


def source_of(form: Any) -> str | None:
    """The canonical text of a defining form."""
    return None if form is None else write(form)


class Namespace:
    """Keeps an environment's globals and macros equal to a world's definitions.

    Macros, and stored names that would otherwise find a primitive, are bound
    when the world opens; every other name when the environment first needs
    it (`ensure`, see `lazy.WorldEnvironment`), or all at once (`load_all`).
    """

    def __init__(self, root: WorldRoot, env: Environment) -> None:
        self.root, self.env = root, env
        self.defs, self.macros = root.definitions, root.macros
        self.loaded: dict[str, Definition] = {}   # name -> the Definition bound in env
        self.absent: set[str] = set()     # names found unstored, until the generation moves
        self.all_loaded = False
        self.macro_names: set[str] = set()
        self.touched: dict[str, tuple[int, int]] = {}   # name -> versions before this form
        self.unsettled: set[str] = set()    # names to rebind that a lost ZEO server kept from loading
        self.seen = 0           # the generation this environment is up to date with
        self.changes = 0        # this transaction's own bumps of the generation
        STALE[root._p_jar] = []

    # ------------------------------------------------------------ loading
    def load(self) -> None:
        """Bind the macros and the names that shadow a primitive; the rest on demand."""
        for name, m in self.macros.items():
            self._bind_macro(name, m)
        self._bind_shadowing()
        self.seen = self.root.generation.value
        if type(self.env) is WorldEnvironment:
            self.env.binder = self
        else:
            self.load_all()

    def _bind_shadowing(self) -> None:
        """Bind stored names the environment already binds (primitives it grants)."""
        for name in self.env.granted:
            if name not in self.loaded:
                self.ensure(name)

    def ensure(self, name: str) -> bool:
        """Bind stored `name` unless it is bound already; say whether it was bound now."""
        if name in self.loaded or name in self.absent:
            return False
        d = self.defs.get(name)
        if d is None:
            self.absent.add(name)
            return False
        self._bind(name, d)
        return True

    def load_all(self) -> None:
        """Bind every stored definition (for listings, child environments, snapshots)."""
        if self.all_loaded:
            return
        # Loading makes many objects and frees none: the cycle collector would only rescan them.
        enabled = gc.isenabled()
        gc.disable()
        try:
            jar = self.root._p_jar
            ghosts = [d for d in self.defs.values() if d._p_changed is None]
            for i in range(0, len(ghosts), PREFETCH):      # over ZEO: ask for them at once
                jar.prefetch(ghosts[i:i + PREFETCH])
            for name, d in self.defs.items():
                if name not in self.loaded:
                    self._bind(name, d)
            self.all_loaded = True
        finally:
            if enabled:
                if not gc.get_freeze_count():   # what stays loaded goes straight to the oldest
                    gc.freeze()                 # generation, not scanned twice as young objects
                    gc.unfreeze()
                gc.enable()

    def _bind(self, name: str, d: Definition) -> None:
        sym = Symbol(name)
        try:
            value = d.value
        except RecordError as e:       # a damaged record: name the definition as well
            raise ImageError(f"{e.where}: the definition of {name} cannot be loaded: object "
                             f"{e.oid} {e.detail}") from None
        except StateLoadError as e:
            why = e.__cause__
            detail = why.message if isinstance(why, ImageError) else f"{type(why).__name__}: {why}"
            where = self.root._p_jar.db().storage.getName()
            raise ImageError(f"{where}: the definition of {name} cannot be loaded: {detail}") from None
        self.env.define(sym, value)
        if d.doc:
            dict.__setitem__(self.env.docs, sym, d.doc)
        self.loaded[name] = d
        self.absent.discard(name)

    def _bind_macro(self, name: str, m: Definition) -> None:
        sym = Symbol(name)
        self.env.macros[sym] = m.value
        if m.doc and name not in self.loaded and not dict.__contains__(self.env.docs, sym):
            dict.__setitem__(self.env.docs, sym, m.doc)
        self.macro_names.add(name)

    def rebind(self, name: str) -> None:
        """Make the environment's binding of `name` equal to the stored one."""
        env, sym = self.env, Symbol(name)
        d, m = self.defs.get(name), self.macros.get(name)
        env.unbind(sym)
        self.loaded.pop(name, None)
        self.absent.discard(name)
        if d is not None:
            self._bind(name, d)
        elif name in env.granted and name in Primitive.registry:
            env.define(sym, Primitive.registry[name])
        if m is not None:
            self._bind_macro(name, m)
        else:
            self.macro_names.discard(name)

    def refresh(self) -> None:
        """Rebind the names other sessions changed (call at a transaction's start)."""
        names = set()
        stale = STALE.get(self.root._p_jar, [])
        while stale:
            try:
                names.add(stale.pop().name)
            except (POSKeyError, KeyError):
                pass
        gen = self.root.generation.value
        if gen != self.seen:
            defs = self.defs
            # Bound names now removed or replaced; unbound ones bind when needed.
            names |= {n for n, d in self.loaded.items() if defs.get(n) is not d}
            names |= {n for n in self.env.granted if n not in self.loaded and n in defs}
            names |= self.macro_names.symmetric_difference(self.macros.keys())
            self.absent.clear()
            self.all_loaded = False
            self.seen = gen
        self._rebind_all(names)

    def _rebind_all(self, names: Iterable[str]) -> None:
        """Rebind `names`; those a lost storage kept from loading are rebound at the next refresh."""
        names = set(names) | self.unsettled
        self.unsettled = set(names)
        try:
            for name in sorted(names):
                self.rebind(name)
                self.unsettled.discard(name)
        except BaseException:
            self.all_loaded = False         # a name left unbound binds again when used
            raise

    # ------------------------------------------------------------ changing
    def versions(self, name: str) -> tuple[int, int]:
        """The stored versions of `name` as a global and as a macro (0: none)."""
        d, m = self.defs.get(name), self.macros.get(name)
        return (d.version if d is not None else 0, m.version if m is not None else 0)

    def record(self, sym: Symbol, value: Any, form: Any, kind: str, doc: str | None) -> None:
        """Environment hook: store a top-level define, defmacro or global set!."""
        name = sym.name
        if name not in self.touched:
            self.touched[name] = self.versions(name)
        if kind == "set!":
            d = self.defs.get(name)
            if d is None:
                d = self.defs[name] = Definition(name, "define", value, None, None)
            else:
                d.assign(value)
            self.loaded[name] = d
            self.absent.discard(name)
        elif kind == "defmacro":
            self._put(self.macros, name, kind, value, source_of(form), doc)
            self.macro_names.add(name)
        else:
            self.loaded[name] = self._put(self.defs, name, kind, value, source_of(form), doc)
            self.absent.discard(name)
            if name in self.macro_names:
                self.macros.pop(name, None)
                self.macro_names.discard(name)
        self._bump()

    def _bump(self) -> None:
        self.root.generation.change(1)
        self.changes += 1

    def put(self, name: str, kind: str, value: Any, source: str | None, doc: str | None,
            macro: bool = False) -> None:
        """Store and bind `name` directly (restoring a snapshot)."""
        if name not in self.touched:
            self.touched[name] = self.versions(name)
        self._put(self.macros if macro else self.defs, name, kind, value, source, doc)
        self._bump()
        self.rebind(name)

    def remove(self, name: str, macro: bool = False) -> None:
        """Delete `name` from the stored namespace and the environment."""
        if name not in self.touched:
            self.touched[name] = self.versions(name)
        (self.macros if macro else self.defs).pop(name, None)
        self._bump()
        self.rebind(name)

    @staticmethod
    def _put(tree: Any, name: str, kind: str, value: Any, source: str | None,
             doc: str | None) -> "Definition":
        d = tree.get(name)
        if d is None:
            d = tree[name] = Definition(name, kind, value, source, doc)
        else:
            d.update(kind, value, source, doc)
        return d

    # ------------------------------------------------------------ transactions
    def committed(self) -> None:
        """The form's changes are in the database."""
        # Not the stored generation: if ZODB merged another session's bumps into it,
        # the next refresh must still see that it moved.
        self.seen += self.changes
        self.changes = 0
        self.touched.clear()

    def rollback(self) -> dict[str, tuple[int, int]]:
        """After an abort: rebind what the form touched; return what it touched."""
        touched, self.touched = self.touched, {}
        self.changes = 0
        self._rebind_all(touched)
        self.refresh()
        return touched

    def clashes(self, touched: dict[str, tuple[int, int]]) -> list[str]:
        """Names in `touched` that another session changed meanwhile."""
        return sorted(n for n, before in touched.items() if self.versions(n) != before)
