"""The Python globals a world's database may name: the allowlist.

A ZODB record is two pickles (the object's class, then its state), and a
pickle can name any importable global and call it (REDUCE, NEWOBJ, BUILD).
An image file, or a record any ZEO client stored, is therefore data that
could run host code when loaded. Every global a world's connections resolve,
the record's class and each global inside its state alike, goes through
ZODB's class factory (`ZODB.serialize.ObjectReader._get_unpickler` hands
`find_global` to the unpickler, and `_persistent_load` resolves the class of
each reference through the same factory), which calls `find` below. So do
conflict resolution (`ZODB.ConflictResolution.find_global`, used by storages
and by a ZEO server) and, in a ZEO server, the decoding of client messages
(`ZEO.asyncio.marshal.server_find_global`), and transaction extensions,
which a ZEO client writes as raw bytes and a server unpickles when asked to
iterate or undo (`ZODB._compat.loads`, imported by name into FileStorage,
Connection and fstools): `guard_libraries` replaces each.

What may be named:
- classes that subclass `persistent.Persistent` and are defined in a module of
  `world` or of `BTrees` (their constructors only set attributes);
- `persistent.mapping.PersistentMapping` and `persistent.list.PersistentList`;
- the value types of `world.lisp.types` and the few functions that rebuild
  them, each safe for any arguments (see `EXPLICIT`): a procedure template
  is checked before it is made, since the compiler turns its captured names
  into Python source.
Nothing else: no builtins (the world's data needs none under pickle protocol
3), no module-level function that is not listed, never `getattr`.
"""
from __future__ import annotations

import importlib
import io
import re
import sys
from typing import Any

import persistent

from ..lisp.env import Environment
from ..lisp.types import Template
from .errors import ImageError

# Name -> why it is safe for any arguments a hostile pickle could pass.
EXPLICIT: dict[tuple[str, str], str] = {
    ("persistent.mapping", "PersistentMapping"): "ZODB's root object: a persistent dict",
    ("persistent.list", "PersistentList"): "a persistent list",
    ("world.lisp.types", "Symbol"): "interns a name",
    ("world.lisp.types", "Keyword"): "interns a name",
    ("world.lisp.types", "Char"): "interns a character",
    ("world.lisp.types", "VOID"): "a constant, not called",
    ("world.lisp.types", "EOF"): "a constant, not called",
    ("world.lisp.types", "LispMap"): "builds a map from pairs",
    ("world.lisp.types", "RecordType"): "holds a name and field names",
    ("world.lisp.types", "ErrorObject"): "holds a message and irritants",
    ("world.lisp.types", "_rebuild_list"): "links cons cells",
    ("world.lisp.types", "primitive_named"): "replaced by `checked_primitive`",
    ("world.lisp.types", "Template"): "replaced by `checked_template`",
    ("world.lisp.types", "template_text"): "replaced by `checked_template_text`",
    ("world.lisp.types", "_rebuild_closure"): "replaced by `checked_closure`",
    ("world.lisp.types", "closure_shell"): "replaced by `checked_shell`",
    ("fractions", "Fraction"): "parses a rational",
    ("world.lisp.primitives.ports", "console_port"): "returns one of two constant ports",
    ("world.lisp.syntax_rules", "syntax_rules_from_source"): "parses a macro's syntax-rules text; "
                                                             "damaged text makes a macro that says so",
}
PERSISTENT_PACKAGES = ("world.", "BTrees.")

# The Python names the compiler gives captured variables (`mangle` keeps them ASCII).
_CAPTURED = re.compile(r"l_[A-Za-z0-9_]+_[0-9]+b?\Z", re.ASCII)


class Refused(ImageError):
    """A record names a Python global outside the allowlist; nothing of it ran."""

    def __init__(self, what: str) -> None:
        super().__init__(f"names {what}, which a world image may not load")
        self.what = what

    def at(self, oid: bytes, where: str) -> "RefusedRecord":
        """The one-line error for the record `oid` in the database `where`."""
        return RefusedRecord(f"{where}: object {oid_text(oid)} names {self.what}, which a world "
                          f"image may not load; nothing of it was run (the image was not "
                          f"written by World, or was altered)")


class RefusedRecord(ImageError):
    """`Refused`, naming the record (object id) and the database it is in."""


def oid_text(oid: Any) -> str:
    """An object id as 0x-hex text."""
    if isinstance(oid, bytes):
        return "0x" + (oid.lstrip(b"\0").hex() or "00")
    return repr(oid)


def checked_template(form: Any = None, name: Any = "", free: Any = (), doc: Any = None,
                     glob: Any = False, home: Any = None) -> Template:
    """A stored procedure template, refused unless every field has the shape the
    compiler made: its captured names become Python identifiers in generated code."""
    ok = (type(name) is str and type(free) is tuple
          and all(type(p) is str and _CAPTURED.match(p) for p in free)
          and (doc is None or type(doc) is str) and type(glob) is bool
          and (home is None or isinstance(home, Environment)))
    if not ok:
        raise Refused("a malformed procedure template")
    return Template(form, name, free, doc, glob, home)


def checked_template_text(text: Any = None, locs: Any = None, name: Any = "", free: Any = (),
                          doc: Any = None, glob: Any = False, home: Any = None) -> Template:
    """A stored procedure template kept as text: checked as `checked_template` does, its text a
    string and its locations a tuple (read only when the form is, which skips any not a number)."""
    from ..lisp.types import template_text
    checked_template(None, name, free, doc, glob, home)
    if type(text) is not str or not (locs is None or type(locs) is tuple):
        raise Refused("a malformed procedure template")
    return template_text(text, locs, name, free, doc, glob, home)


def checked_closure(tmpl: Any, captured: Any) -> Any:
    """A stored closure, refused unless it is a template and one value per captured name."""
    from .lazy import rebuild_closure
    if type(tmpl) is not Template or type(captured) is not tuple or len(captured) != len(tmpl.free):
        raise Refused("a malformed closure")
    return rebuild_closure(tmpl, captured)


def checked_shell(tmpl: Any) -> Any:
    """A stored closure's shell, refused unless it is made from a template; its captured
    values, set next, are checked by `lazy.Pending.restore`."""
    from .lazy import closure_shell
    if type(tmpl) is not Template:
        raise Refused("a malformed closure")
    return closure_shell(tmpl)


def checked_primitive(name: Any) -> Any:
    """A stored primitive, looked up by name; refused if this release has none of that name."""
    from ..lisp.types import Primitive
    found = Primitive.registry.get(name) if type(name) is str else None
    if found is None:
        named = repr(name[:80]) if type(name) is str else "a name that is not a string"
        raise Refused(f"a primitive this release does not have: {named}")
    return found


SUBSTITUTES = {("world.lisp.types", "Template"): checked_template,
               ("world.lisp.types", "template_text"): checked_template_text,
               ("world.lisp.types", "_rebuild_closure"): checked_closure,
               ("world.lisp.types", "closure_shell"): checked_shell,
               ("world.lisp.types", "primitive_named"): checked_primitive}


def _defined(module: str, name: str) -> Any:
    """The global `module.name` if that module defines it (never an import that fails loudly)."""
    mod = sys.modules.get(module)
    if mod is None:
        try:
            mod = importlib.import_module(module)
        except Exception:
            return None
    return getattr(mod, name, None) if isinstance(name, str) else None


def allowed(module: Any, name: Any) -> bool:
    """Whether a world's records may name `module.name`."""
    if type(module) is not str or type(name) is not str:
        return False
    if (module, name) in EXPLICIT:
        return True
    if not module.startswith(PERSISTENT_PACKAGES) or name.startswith("_"):
        return False
    obj = _defined(module, name)
    return (isinstance(obj, type) and issubclass(obj, persistent.Persistent)
            and obj.__module__ == module and obj.__name__ == name)


def find(module: Any, name: Any) -> Any:
    """The global a record names, if the allowlist has it; else `Refused`."""
    if not allowed(module, name):
        raise Refused(f"{module}.{name}" if type(module) is str and type(name) is str
                      else "a global that is not a name")
    found = SUBSTITUTES.get((module, name))
    if found is None:
        found = _defined(module, name)
        if found is None:
            raise Refused(f"{module}.{name} (this release has no such name)")
    return found


# ---------------------------------------------------------------- the libraries' own loaders

def _conflict_global(*args: Any) -> Any:
    """`ZODB.ConflictResolution.find_global`, allowlisted: a refused name cannot be resolved."""
    from ZODB.ConflictResolution import BadClassName
    try:
        return find(*args)
    except Refused:
        raise BadClassName(*args) from None


_ZEO_MESSAGE_GLOBALS = {("ZopeUndo.Prefix", "Prefix")}


def _zeo_message_global(module: str, name: str) -> Any:
    """What a ZEO client's messages may name: only ZODB's undo filter (data, not code)."""
    if (module, name) not in _ZEO_MESSAGE_GLOBALS:
        raise ImportError(f"not allowed in a ZEO message: {module}.{name}")
    return _defined(module, name)


def plain_loads(data: bytes) -> Any:
    """Unpickle plain data only (no global, no persistent reference): what a transaction's
    extension holds (its note's names). ZODB's own `loads` resolves any global."""
    import zodbpickle.pickle as zpickle

    class Plain(zpickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            raise zpickle.UnpicklingError(f"a transaction extension names {module}.{name}")

    return Plain(io.BytesIO(data), encoding="ASCII", errors="bytes").load()


def guard_libraries() -> None:
    """Route ZODB's conflict resolution and transaction extensions, and ZEO's server
    message decoding, through the allowlist."""
    import ZODB._compat
    import ZODB.Connection
    import ZODB.ConflictResolution as conflicts
    import ZODB.FileStorage.FileStorage
    import ZODB.fstools
    conflicts.find_global = _conflict_global
    # Each imported `loads` by name: FileStorage's undoLog and iterator, fstools, and
    # TransactionMetaData.extension (which a ZEO server reads to answer iterator_next).
    for module in (ZODB._compat, ZODB.Connection, ZODB.FileStorage.FileStorage, ZODB.fstools):
        module.loads = plain_loads
    try:
        import ZEO.asyncio.marshal as marshal
    except ImportError:
        return
    marshal.server_find_global = _zeo_message_global


guard_libraries()
