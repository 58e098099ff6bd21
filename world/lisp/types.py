"""The values of the world's Lisp.

Numbers are Python `int`, `fractions.Fraction` and `float`; strings are `str`;
`#t`/`#f` are `True`/`False`; the empty list is `None`; vectors are tuples;
bytevectors (`#u8(...)`) are `bytes`.
Pairs, maps and vectors are immutable (as in Racket and Clojure), so only
`Box` and `Record` hold mutable state: those two subclass
`persistent.Persistent`, so a database tracks their changes and two values
that share one keep sharing it after a reload.

Every type pickles without Python functions inside: symbols and keywords
re-intern, primitives are stored by name, closures by their lambda source and
captured values, and long lists as flat tuples (no deep recursion).
"""
from __future__ import annotations

import weakref
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator

import persistent

from . import budget
from .errors import LispTypeError


# ---------------------------------------------------------------- atoms

INTERNED_BYTES = 200    # accounted size of a new symbol, keyword or character (object, table entry)


class Symbol:
    """An interned name; compare with `is`."""

    __slots__ = ("name", "__weakref__")
    # Weak: a symbol made by an evaluation (`read`, `string->symbol`, `gensym`) lives only
    # as long as something holds it, and its making is charged to the evaluation's memory.
    table: "weakref.WeakValueDictionary[str, Symbol]" = weakref.WeakValueDictionary()

    def __new__(cls, name: str) -> "Symbol":
        sym = cls.table.get(name)
        if sym is None:
            sym = object.__new__(cls)
            sym.name = name
            cls.table[name] = sym
            budget.alloc(INTERNED_BYTES + len(name))
        return sym

    def __reduce__(self):
        return (Symbol, (self.name,))

    def __repr__(self) -> str:
        return f"Symbol({self.name!r})"

    def __lt__(self, other: "Symbol") -> bool:
        return self.name < other.name


class Keyword:
    """An interned self-evaluating name such as `:temp`."""

    __slots__ = ("name", "__weakref__")
    table: "weakref.WeakValueDictionary[str, Keyword]" = weakref.WeakValueDictionary()

    def __new__(cls, name: str) -> "Keyword":
        kw = cls.table.get(name)
        if kw is None:
            kw = object.__new__(cls)
            kw.name = name
            cls.table[name] = kw
            budget.alloc(INTERNED_BYTES + len(name))
        return kw

    def __reduce__(self):
        return (Keyword, (self.name,))

    def __repr__(self) -> str:
        return f"Keyword({self.name!r})"


class Char:
    """A character; interned by code point."""

    __slots__ = ("c", "__weakref__")
    table: "weakref.WeakValueDictionary[str, Char]" = weakref.WeakValueDictionary()

    def __new__(cls, c: str) -> "Char":
        ch = cls.table.get(c)
        if ch is None:
            ch = object.__new__(cls)
            ch.c = c
            cls.table[c] = ch
            budget.alloc(INTERNED_BYTES)
        return ch

    def __reduce__(self):
        return (Char, (self.c,))

    def __repr__(self) -> str:
        return f"Char({self.c!r})"


class Void:
    """The unspecified value returned by effects such as `display`."""

    __slots__ = ()

    def __reduce__(self):
        return "VOID"

    def __repr__(self) -> str:
        return "VOID"


VOID = Void()


class Eof:
    """The end-of-file object that reading an exhausted port returns (`eof-object`)."""

    __slots__ = ()

    def __reduce__(self):
        return "EOF"

    def __repr__(self) -> str:
        return "EOF"


EOF = Eof()

sym = Symbol


# ---------------------------------------------------------------- pairs

class Pair:
    """An immutable cons cell; `loc` is its (line, column) in the source."""

    __slots__ = ("car", "cdr", "loc")

    def __init__(self, car: Any, cdr: Any, loc: tuple[int, int] | None = None):
        self.car = car
        self.cdr = cdr
        self.loc = loc

    def __iter__(self) -> Iterator[Any]:
        """Iterate the elements of a proper list (stops at an improper tail)."""
        p = self
        while type(p) is Pair:
            yield p.car
            p = p.cdr

    def __eq__(self, other: Any) -> bool:
        return type(other) is Pair and equal(self, other)

    def __hash__(self) -> int:
        return hash_value(self)

    def __reduce__(self):
        items, locs, tail = [], [], self
        seen = 0
        while type(tail) is Pair:
            items.append(tail.car)
            locs.append(tail.loc)
            tail = tail.cdr
            seen += 1
        if not any(locs):
            return (_rebuild_list, (tuple(items), tail))
        return (_rebuild_list, (tuple(items), tail, tuple(locs)))

    def __repr__(self) -> str:
        from .printer import write
        return f"<Pair {write(self, limit=200)}>"


def _rebuild_list(items: tuple, tail: Any = None, locs: tuple | None = None) -> Any:
    """Unpickle a list flattened by `Pair.__reduce__`."""
    out = tail
    if locs is None:
        for x in reversed(items):
            out = Pair(x, out)
    else:
        for x, loc in zip(reversed(items), reversed(locs)):
            out = Pair(x, out, loc)
    return out


def make_list(items: Iterable[Any], tail: Any = None) -> Any:
    """Build a Lisp list from a Python iterable."""
    out = tail
    for x in reversed(items if isinstance(items, (list, tuple)) else list(items)):
        out = Pair(x, out)
    return out


def to_pylist(x: Any, who: str = "list") -> list[Any]:
    """The elements of a proper list, or a type error naming `who`."""
    out = []
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    if x is not None:
        raise LispTypeError(f"{who}: expected a proper list")
    return out


# ---------------------------------------------------------------- maps

def map_key(k: Any) -> Any:
    """The dict key under which a Lisp value is stored in a `LispMap`.

    Python thinks `True == 1 == 1.0`; Lisp does not, so booleans and floats
    are tagged. Vectors are wrapped, so that Python's own tuple hash and
    `==` (recursive, unmetered C code) never see them.
    """
    t = type(k)
    if t is bool or t is float:
        return (t, k)
    if t is tuple:
        return VectorKey(k)
    return k


class VectorKey:
    """A vector used as a map key: hashed and compared as `equal?` does, metered."""

    __slots__ = ("v",)

    def __init__(self, v: tuple) -> None:
        self.v = v

    def __hash__(self) -> int:
        return hash_value(self.v)

    def __eq__(self, other: Any) -> bool:
        return type(other) is VectorKey and equal(self.v, other.v)


class LispMap:
    """An immutable map; `assoc` and `dissoc` return new maps."""

    __slots__ = ("d",)

    def __init__(self, pairs: Iterable[tuple[Any, Any]] = ()):
        self.d = {map_key(k): (k, v) for k, v in pairs}

    @classmethod
    def _from(cls, d: dict) -> "LispMap":
        m = object.__new__(cls)
        m.d = d
        return m

    def get(self, k: Any, default: Any = False) -> Any:
        kv = self.d.get(map_key(k))
        return default if kv is None else kv[1]

    def assoc(self, k: Any, v: Any) -> "LispMap":
        d = dict(self.d)
        d[map_key(k)] = (k, v)
        return LispMap._from(d)

    def dissoc(self, k: Any) -> "LispMap":
        d = dict(self.d)
        d.pop(map_key(k), None)
        return LispMap._from(d)

    def items(self) -> list[tuple[Any, Any]]:
        return list(self.d.values())

    def __contains__(self, k: Any) -> bool:
        return map_key(k) in self.d

    def __len__(self) -> int:
        return len(self.d)

    def __eq__(self, other: Any) -> bool:
        return type(other) is LispMap and equal(self, other)

    def __hash__(self) -> int:
        return hash_value(self)

    def __reduce__(self):
        return (LispMap, (tuple(self.d.values()),))

    def __repr__(self) -> str:
        from .printer import write
        return f"<LispMap {write(self, limit=200)}>"


# ---------------------------------------------------------------- mutable state

class Box(persistent.Persistent):
    """A mutable cell: a captured variable that is `set!`, or a user `box`."""

    format_version = 1

    def __init__(self, v: Any = None) -> None:
        self.v = v


class RecordType:
    """The type of records made by `define-record`; equal by name and fields."""

    __slots__ = ("name", "fields")

    def __init__(self, name: str, fields: tuple[str, ...]) -> None:
        self.name = name
        self.fields = fields

    def __eq__(self, other: Any) -> bool:
        return (type(other) is RecordType and other.name == self.name
                and other.fields == self.fields)

    def __hash__(self) -> int:
        return hash((self.name, self.fields))

    def __reduce__(self):
        return (RecordType, (self.name, self.fields))


class Record(persistent.Persistent):
    """An instance of a record type, with mutable fields."""

    format_version = 1

    def __init__(self, rtype: RecordType, values: list[Any]) -> None:
        self.rtype = rtype
        self.values = tuple(values)

    def set_field(self, i: int, v: Any) -> None:
        vals = list(self.values)
        vals[i] = v
        self.values = tuple(vals)


# ---------------------------------------------------------------- procedures

class Procedure:
    """Base of every callable value; `fn` is the Python function that runs it."""

    __slots__ = ()


class Primitive(Procedure):
    """A procedure the host provides; pickled by name."""

    __slots__ = ("fn", "name", "doc", "arity", "inline", "__weakref__")
    registry: dict[str, "Primitive"] = {}

    def __init__(self, name: str, fn: Callable, doc: str = "",
                 arity: tuple[int, int | None] = (0, None)) -> None:
        self.fn = fn
        self.name = name
        self.doc = doc
        self.arity = arity
        self.inline: str | None = None      # Python the compiler may use instead of a call

    def __reduce__(self):
        return (primitive_named, (self.name,))

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def primitive_named(name: str) -> Primitive:
    """The registered primitive called `name` (used when unpickling)."""
    return Primitive.registry[name]


class Closure(Procedure):
    """A compound procedure made by `lambda`.

    `tmpl` is the compiled lambda's `Template` (its source and the names of
    the variables it captures); `fn` is the compiled Python function, a
    volatile cache that unpickling rebuilds from the template.
    """

    __slots__ = ("fn", "tmpl", "__weakref__")

    def __init__(self, fn: Callable, tmpl: "Template") -> None:
        self.fn = fn
        self.tmpl = tmpl

    @property
    def name(self) -> str:
        return self.tmpl.name

    def captured(self) -> tuple[Any, ...]:
        """Values of the captured variables, in the template's order."""
        cells = self.fn.__closure__ or ()
        names = self.fn.__code__.co_freevars
        by_name = dict(zip(names, cells))
        # A procedure that calls itself only in tail position is compiled as a loop,
        # so its own name, though captured, has no cell: its value is the procedure.
        return tuple(by_name[n].cell_contents if n in by_name else self for n in self.tmpl.free)

    def __reduce__(self):
        # A shell first, its captured values as its state: pickle memoises the shell
        # before it pickles the state, so a closure that captures itself (letrec, named
        # let), or a box or record that holds it, refers back to the shell.
        return (closure_shell, (self.tmpl,), self.captured())

    def __setstate__(self, captured: Any) -> None:
        """Give a shell made by `closure_shell` its captured values."""
        fn = self.fn
        if not isinstance(fn, Unbuilt):
            raise ValueError("a closure's captured values are set once, when it is loaded")
        fn.restore(self, captured)

    def __repr__(self) -> str:
        return f"<procedure {self.name}>"


class Template:
    """What a compiled lambda needs to be rebuilt: source and captured names.

    `free` are the Python names of the captured variables; `form` is the
    lambda expression itself (Lisp data) and `name` the procedure's name.

    A template whose form is plain data (what the reader makes: no procedure,
    box or record spliced into the code by a macro) is stored as its canonical
    text and the source locations of its lists, and read back into a form only
    when something needs the form (compiling it on its first call): loading a
    world's procedures then costs a string each, and their text is what history
    fingerprints.
    """

    __slots__ = ("_form", "_text", "_locs", "name", "free", "doc", "glob", "home", "_v_factory")

    def __init__(self, form: Any, name: str, free: tuple[str, ...],
                 doc: str | None = None, glob: bool = False, home: Any = None) -> None:
        self._form = form
        self._text: str | bool | None = None      # canonical text; False: not plain; None: not known yet
        self._locs: tuple[int, ...] | None = None
        self.name = name
        self.free = free
        self.doc = doc
        self.glob = glob        # defined by a global define: its self tail calls loop
        self.home = home        # the Environment whose namespace its code runs in
        self._v_factory = None

    @property
    def form(self) -> Any:
        """The lambda expression, read from the stored text the first time it is needed."""
        form = self._form
        if form is None and self._text:
            from .reader import read
            with budget.uncharged():        # loading, not the program's work
                form = read(self._text, max_depth=1 << 30)
            if self._locs is not None:
                _set_locs(form, self._locs)
            self._form = form
        return form

    def canonical(self) -> str | None:
        """The form's canonical text if the form is plain data (it reads back equal), else None."""
        if self._text is None:
            from .printer import write
            with budget.uncharged():
                self._text = write(self._form) if _plain(self._form) else False
        return self._text or None

    def __reduce__(self):
        text = self.canonical()
        if text is None:
            return (Template, (self.form, self.name, self.free, self.doc, self.glob, self.home))
        locs = self._locs if self._form is None else _locs_of(self._form)
        return (template_text, (text, locs, self.name, self.free, self.doc, self.glob, self.home))


_PLAIN_ATOMS = (int, float, Fraction, bool, type(None), bytes)
PLAIN_DEPTH = 2000      # lists nested deeper are stored as data: the text would need a deep read


def _plain(form: Any) -> bool:
    """Does `form` consist only of what the reader makes, so its written text reads back equal?"""
    stack = [(form, 0)]
    while stack:
        x, depth = stack.pop()
        t = type(x)
        if t is Pair:
            if depth > PLAIN_DEPTH:
                return False
            stack.append((x.cdr, depth))
            stack.append((x.car, depth + 1))
        elif t is str:
            if not x.isascii():
                try:
                    x.encode("utf-8")
                except UnicodeEncodeError:      # a lone surrogate: the reader refuses it
                    return False
        elif t in _PLAIN_ATOMS or t is Symbol or t is Keyword or t is Char:
            continue
        elif t is tuple:
            stack.extend((v, depth + 1) for v in x)
        elif t is LispMap:
            for k, v in x.items():
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        else:
            return False
    return True


def _pairs(form: Any) -> Iterator[Pair]:
    """The lists' cells of `form`, car before cdr (vectors and maps are not entered)."""
    stack = [form]
    while stack:
        x = stack.pop()
        if type(x) is Pair:
            yield x
            stack.append(x.cdr)
            stack.append(x.car)


def _locs_of(form: Any) -> tuple[int, ...] | None:
    """Line and column of each of `form`'s cells, flattened (0, 0: none); None if none has one."""
    out: list[int] = []
    for p in _pairs(form):
        loc = p.loc
        out += loc if loc else (0, 0)
    return tuple(out) if any(out) else None


def _set_locs(form: Any, locs: tuple[int, ...]) -> None:
    """Give a form read from text the source locations its cells had when stored."""
    i, n = 0, len(locs)
    for p in _pairs(form):
        if i + 1 >= n:
            return
        line, col = locs[i], locs[i + 1]
        ok = type(line) is int and type(col) is int and line > 0     # a stored tuple is not trusted
        p.loc = (line, col) if ok else None
        i += 2


def template_text(text: str, locs: tuple[int, ...] | None, name: str, free: tuple[str, ...],
                  doc: str | None = None, glob: bool = False, home: Any = None) -> Template:
    """Unpickle a template stored as text: its form is read when first needed."""
    t = Template(None, name, free, doc, glob, home)
    t._text, t._locs = text, locs
    return t


class Unbuilt:
    """The function of a closure being unpickled, until its captured values are set:
    compiles it then. A loader may give shells a subclass that compiles later."""

    __slots__ = ()

    def restore(self, proc: Closure, captured: Any) -> None:
        """Compile `proc` with `captured`, one value per captured name of its template."""
        from .compiler import closure_factory
        if type(captured) is not tuple or len(captured) != len(proc.tmpl.free):
            raise ValueError("a malformed closure")
        with budget.uncharged():            # loading, not the program's work
            proc.fn = closure_factory(proc.tmpl)(*captured)


def closure_shell(tmpl: Template) -> Closure:
    """Unpickle a closure: a shell that `Closure.__setstate__` completes."""
    return Closure(Unbuilt(), tmpl)


def _rebuild_closure(tmpl: Template, captured: tuple) -> Closure:
    """Unpickle a closure as images written before `closure_shell` stored it."""
    proc = closure_shell(tmpl)
    proc.fn.restore(proc, captured)
    return proc


class Continuation(Procedure):
    """An escaping continuation made by `call/cc`."""

    __slots__ = ("fn", "tag", "live")

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.live = True

    def __reduce__(self):
        raise LispTypeError("continuations cannot be stored")


class ErrorObject:
    """An R7RS error object: a message and a list of irritants."""

    __slots__ = ("message", "irritants")

    def __init__(self, message: str, irritants: Any = None) -> None:
        self.message = message
        self.irritants = irritants

    def __eq__(self, other: Any) -> bool:
        return (type(other) is ErrorObject and other.message == self.message
                and equal(other.irritants, self.irritants))

    def __hash__(self) -> int:
        return hash(self.message)

    def __reduce__(self):
        return (ErrorObject, (self.message, self.irritants))


# ---------------------------------------------------------------- equality

def eqv(a: Any, b: Any) -> bool:
    """`eqv?`: identity, or equal numbers of the same exactness, or equal chars/strings-by-identity."""
    if a is b:
        return True
    ta = type(a)
    if ta is not type(b):
        return False
    if ta is int or ta is float or ta is Fraction:
        return a == b
    return False


def equal(a: Any, b: Any) -> bool:
    """`equal?`: structural equality, iterative, charging a step per node visited.

    Shared structure is walked once per path, as `equal?` must, so a deep
    DAG costs what its tree would: the budget, not the host, bounds it.
    Boxes and records compared twice are assumed equal the second time, so
    cycles through them end.
    """
    if a is b:
        return True
    stack = [(a, b)]
    pop, push = stack.pop, stack.append
    visits = 0
    pairs_seen: set[tuple[int, int]] | None = None
    try:
        while stack:
            a, b = pop()
            visits += 1
            if visits > 1024:
                budget.charge(visits)
                visits = 0
            if a is b:
                continue
            ta = type(a)
            if ta is not type(b):
                return False
            if ta is Pair:
                while True:
                    visits += 1
                    if a.car is not b.car:
                        push((a.car, b.car))
                    a, b = a.cdr, b.cdr
                    if type(a) is not Pair or type(b) is not Pair:
                        break
                push((a, b))
            elif ta is tuple:
                if len(a) != len(b):
                    return False
                visits += len(a)
                stack.extend(zip(a, b))
            elif ta is LispMap:
                if len(a.d) != len(b.d):
                    return False
                visits += len(a.d)
                other = b.d
                for key, (_, v) in a.d.items():
                    kv = other.get(key)         # hashing and comparing keys is metered too
                    if kv is None:
                        return False
                    push((v, kv[1]))
            elif ta is Record or ta is Box:
                if pairs_seen is None:
                    pairs_seen = set()
                ids = (id(a), id(b))
                if ids in pairs_seen:
                    continue
                pairs_seen.add(ids)
                if ta is Box:
                    push((a.v, b.v))
                elif a.rtype != b.rtype:
                    return False
                else:
                    stack.extend(zip(a.values, b.values))
            elif ta is str:
                visits += len(a) >> 6
                if a != b:
                    return False
            elif ta is ErrorObject:
                if a.message != b.message:
                    return False
                push((a.irritants, b.irritants))
            elif ta in (int, float, Fraction, bool, RecordType, bytes):
                if ta is bytes:
                    visits += len(a) >> 6
                if a != b:
                    return False
            else:
                return False
        return True
    finally:
        budget.charge(visits)


_HASH_NODES = 24        # nodes of a value its hash looks at: bounded work, even on a DAG
_ATOM_TYPES = (int, str, Symbol, Keyword, Char, Fraction, RecordType, type(None), bytes)


def hash_value(x: Any) -> int:
    """A hash consistent with `equal`, looking at no more than a few nodes of `x`.

    Values that differ only past the first nodes collide, and are then told
    apart by `equal`, which is metered; hashing itself stays cheap and never
    recurses. A map contributes its size and the hashes of its atom keys and
    values (order-free); boxes and records only their type.
    """
    t = type(x)
    if t in _ATOM_TYPES:
        return hash(x)
    if t is bool or t is float:
        return hash((t, x))
    h = 0x345678
    stack = [x]
    n = 0
    while stack and n < _HASH_NODES:
        v = stack.pop()
        n += 1
        t = type(v)
        if t is Pair:
            h = (h * 1000003) ^ 0x5A17
            stack.append(v.cdr)
            stack.append(v.car)
        elif t is tuple:
            h = (h * 1000003) ^ (0x7EC + len(v))
            stack.extend(reversed(v[:_HASH_NODES - n]))
        elif t is LispMap:
            acc = len(v.d)
            for k, item in v.d.items():
                if type(k) in _ATOM_TYPES:
                    acc ^= hash(k)
                if type(item[1]) in _ATOM_TYPES:
                    acc += hash(item[1]) * 7
            budget.charge(len(v.d) >> 3)
            h = (h * 1000003) ^ (acc & 0xFFFFFFFFFFFF)
        elif t is Record:
            h = (h * 1000003) ^ hash(v.rtype)
        elif t is Box:
            h = (h * 1000003) ^ 0xB0C
        elif t is ErrorObject:
            h = (h * 1000003) ^ hash(v.message)
        elif t is bool or t is float:
            h = (h * 1000003) ^ hash((t, v))
        elif t in _ATOM_TYPES:
            h = (h * 1000003) ^ hash(v)
        else:
            h = (h * 1000003) ^ id(v)
        h &= 0xFFFFFFFFFFFFFFF
    return h


def is_true(x: Any) -> bool:
    """Only `#f` is false."""
    return x is not False
