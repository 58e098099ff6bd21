"""Primitives on data in general: equality, type tests, vectors, maps, boxes.

Vectors (tuples) and maps (`LispMap`) are immutable: `vector-set`, `assoc`
(in lists.py), `dissoc` and `merge` return new values and charge for the
copy. `keys`, `vals` and `map->list` follow the printer's order, sorted by
the written form of the keys, so their results are deterministic. A `Box` is
the one mutable cell a program can make for itself.
"""
from __future__ import annotations

from typing import Any

from .. import budget
from ..budget import PAIR_BYTES
from ..calls import call
from ..errors import EvalError
from ..printer import write
from ..types import Box, Keyword, LispMap, Pair, Procedure, Symbol, VOID, equal, eqv
from . import primitive
from .lists import columns, elements, map_with, new_list
from .numbers import ABSENT, need_count, need_index, need_proc, need_range, show, type_error
from .strings import need_string

SLOT_BYTES = 8          # accounted size of one vector slot


# ---------------------------------------------------------------- equality and type tests

@primitive("eq?")
def is_eq(a: Any, b: Any) -> bool:
    """(eq? a b) -> whether a and b are the same object (numbers and characters by value)."""
    return eqv(a, b)


@primitive("eqv?")
def is_eqv(a: Any, b: Any) -> bool:
    """(eqv? a b) -> whether a and b are the same object, or equal numbers of one exactness."""
    return eqv(a, b)


@primitive("equal?")
def is_equal(a: Any, b: Any) -> bool:
    """(equal? a b) -> whether a and b have the same structure and contents."""
    return equal(a, b)          # charges a step per node visited


@primitive("not")
def not_(x: Any) -> bool:
    """(not x) -> #t if x is #f, else #f."""
    return x is False


@primitive("boolean?")
def is_boolean(x: Any) -> bool:
    """(boolean? x) -> whether x is #t or #f."""
    return type(x) is bool


@primitive("symbol?", inline="_type({0}) is _Sym")
def is_symbol(x: Any) -> bool:
    """(symbol? x) -> whether x is a symbol."""
    return type(x) is Symbol


@primitive("keyword?")
def is_keyword(x: Any) -> bool:
    """(keyword? x) -> whether x is a keyword such as :temp."""
    return type(x) is Keyword


@primitive("procedure?")
def is_procedure(x: Any) -> bool:
    """(procedure? x) -> whether x can be called."""
    return isinstance(x, Procedure)


@primitive("keyword->string")
def keyword_to_string(k: Any) -> str:
    """(keyword->string kw) -> the name of kw, without the colon."""
    if type(k) is not Keyword:
        raise type_error("keyword->string", "a keyword", k)
    return k.name


@primitive("string->keyword")
def string_to_keyword(s: Any) -> Keyword:
    """(string->keyword s) -> the keyword named s."""
    return Keyword(need_string("string->keyword", s))


# ---------------------------------------------------------------- vectors

def need_vector(who: str, v: Any) -> tuple:
    """`v`, or a type error if it is not a vector."""
    if type(v) is not tuple:
        raise type_error(who, "a vector", v)
    return v


def new_vector(items: Any) -> tuple:
    """A new vector of `items` (a list or tuple), accounted."""
    budget.alloc(len(items) * SLOT_BYTES)
    budget.charge(len(items) >> 4)
    return tuple(items)


@primitive("vector?")
def is_vector(x: Any) -> bool:
    """(vector? x) -> whether x is a vector."""
    return type(x) is tuple


@primitive("vector")
def vector(*items: Any) -> tuple:
    """(vector x ...) -> a vector of the arguments."""
    return new_vector(items)


@primitive("make-vector")
def make_vector(n: Any, fill: Any = False) -> tuple:
    """(make-vector n [fill]) -> a vector of n copies of fill (default #f)."""
    budget.check_length(need_count("make-vector", n), "vector")
    return (fill,) * n


@primitive("vector-length")
def vector_length(v: Any) -> int:
    """(vector-length v) -> the number of elements of v."""
    return len(need_vector("vector-length", v))


@primitive("vector-ref")
def vector_ref(v: Any, k: Any) -> Any:
    """(vector-ref v k) -> element k of v, counting from 0."""
    need_vector("vector-ref", v)
    return v[need_index("vector-ref", k, len(v))]


@primitive("vector-set")
def vector_set(v: Any, k: Any, x: Any) -> tuple:
    """(vector-set v k x) -> a new vector like v but with x at index k."""
    need_vector("vector-set", v)
    need_index("vector-set", k, len(v))
    return new_vector(v[:k] + (x,) + v[k + 1:])


@primitive("subvector")
def subvector(v: Any, start: Any, end: Any = ABSENT) -> tuple:
    """(subvector v start [end]) -> the elements of v from start up to end."""
    need_vector("subvector", v)
    start, end = need_range("subvector", start, end, len(v))
    return new_vector(v[start:end])


@primitive("vector-copy")
def vector_copy(v: Any, start: Any = 0, end: Any = ABSENT) -> tuple:
    """(vector-copy v [start [end]]) -> the elements of v from start up to end."""
    need_vector("vector-copy", v)
    start, end = need_range("vector-copy", start, end, len(v))
    return new_vector(v[start:end])


@primitive("vector-append")
def vector_append(*vectors: Any) -> tuple:
    """(vector-append v ...) -> the vectors joined."""
    for v in vectors:
        need_vector("vector-append", v)
    budget.check_length(sum(map(len, vectors)), "vector")
    return new_vector([x for v in vectors for x in v])


@primitive("vector->list")
def vector_to_list(v: Any, start: Any = 0, end: Any = ABSENT) -> Any:
    """(vector->list v [start [end]]) -> the list of the elements of v from start up to end."""
    need_vector("vector->list", v)
    start, end = need_range("vector->list", start, end, len(v))
    budget.charge(end - start)
    return new_list(v[start:end])


@primitive("list->vector")
def list_to_vector(lst: Any) -> tuple:
    """(list->vector lst) -> the vector of the elements of lst."""
    return new_vector(elements("list->vector", lst))


def _vector_columns(who: str, vectors: tuple) -> list[tuple]:
    for v in vectors:
        need_vector(who, v)
    budget.charge(min(map(len, vectors)))
    return list(zip(*vectors))


@primitive("vector-map")
def vector_map(f: Any, v: Any, *more: Any) -> tuple:
    """(vector-map f v ...) -> the vector of (f x ...) for elements taken in step."""
    need_proc("vector-map", f)
    return new_vector([call(f, *xs) for xs in _vector_columns("vector-map", (v,) + more)])


@primitive("vector-for-each")
def vector_for_each(f: Any, v: Any, *more: Any) -> Any:
    """(vector-for-each f v ...) -> calls (f x ...) on elements taken in step, for effect."""
    need_proc("vector-for-each", f)
    for xs in _vector_columns("vector-for-each", (v,) + more):
        call(f, *xs)
    return VOID


# ---------------------------------------------------------------- maps

def need_map(who: str, m: Any) -> LispMap:
    """`m`, or a type error if it is not a map."""
    if type(m) is not LispMap:
        raise type_error(who, "a map", m)
    return m


def sorted_entries(m: LispMap) -> list[tuple[Any, Any]]:
    """The entries of `m` in printed order: sorted by the written form of the keys."""
    n = len(m)
    budget.charge(n * max(1, n.bit_length()))
    return sorted(m.items(), key=lambda kv: write(kv[0]))


@primitive("map?")
def is_map(x: Any) -> bool:
    """(map? x) -> whether x is a map."""
    return type(x) is LispMap


@primitive("hash-map")
def hash_map(*kvs: Any) -> LispMap:
    """(hash-map k v ...) -> a new map binding each key k to the value after it."""
    if len(kvs) % 2:
        raise EvalError(f"hash-map: key {show(kvs[-1])} has no value")
    return map_with(LispMap(), zip(kvs[::2], kvs[1::2]), len(kvs) // 2)


@primitive("get")
def get(coll: Any, key: Any, default: Any = False) -> Any:
    """(get coll key [default]) -> the value of key in a map, or element key of a vector;
    default (#f) when absent."""
    if type(coll) is LispMap:
        return coll.get(key, default)
    if type(coll) is tuple:
        return coll[key] if type(key) is int and 0 <= key < len(coll) else default
    raise type_error("get", "a map or vector", coll)


@primitive("contains?")
def contains(coll: Any, key: Any) -> bool:
    """(contains? coll key) -> whether a map has key, or key is a valid index of a vector."""
    if type(coll) is LispMap:
        return key in coll
    if type(coll) is tuple:
        return type(key) is int and 0 <= key < len(coll)
    raise type_error("contains?", "a map or vector", coll)


@primitive("dissoc")
def dissoc(m: Any, *ks: Any) -> LispMap:
    """(dissoc map k ...) -> a new map without the keys k."""
    need_map("dissoc", m)
    budget.charge(len(m) // 8 + len(ks))
    drop = LispMap((k, True) for k in ks)
    return LispMap([(k, v) for k, v in m.items() if k not in drop])


@primitive("merge")
def merge(*maps: Any) -> LispMap:
    """(merge map ...) -> a new map with the entries of all maps; later maps win."""
    for m in maps:
        need_map("merge", m)
    total = sum(map(len, maps))
    budget.charge(total // 8)
    budget.alloc(total * PAIR_BYTES)
    return LispMap([kv for m in maps for kv in m.items()])


@primitive("keys")
def keys(m: Any) -> Any:
    """(keys map) -> the list of the keys of map, in printed order."""
    return new_list([k for k, _ in sorted_entries(need_map("keys", m))])


@primitive("vals")
def vals(m: Any) -> Any:
    """(vals map) -> the list of the values of map, in the order of its keys."""
    return new_list([v for _, v in sorted_entries(need_map("vals", m))])


@primitive("map->list")
def map_to_list(m: Any) -> Any:
    """(map->list map) -> the list of (key . value) pairs of map, in the order of its keys."""
    entries = sorted_entries(need_map("map->list", m))
    budget.alloc(len(entries) * PAIR_BYTES)
    return new_list([Pair(k, v) for k, v in entries])


@primitive("count")
def count(coll: Any, lst: Any = ABSENT) -> int:
    """(count coll) -> the number of entries or elements of a map, list, vector or string;
    (count pred lst) -> how many elements of lst satisfy pred."""
    if lst is not ABSENT:
        need_proc("count", coll)
        return sum(1 for xs in columns("count", (lst,)) if call(coll, *xs) is not False)
    t = type(coll)
    if t is LispMap or t is tuple or t is str:
        return len(coll)
    if coll is None or t is Pair:
        return len(elements("count", coll))
    raise type_error("count", "a map, list, vector or string", coll)


# ---------------------------------------------------------------- boxes

@primitive("box")
def box(v: Any) -> Box:
    """(box v) -> a new mutable cell holding v."""
    budget.alloc(PAIR_BYTES)
    return Box(v)


@primitive("box?")
def is_box(x: Any) -> bool:
    """(box? x) -> whether x is a box."""
    return type(x) is Box


@primitive("unbox")
def unbox(b: Any) -> Any:
    """(unbox box) -> the value held in box."""
    if type(b) is not Box:
        raise type_error("unbox", "a box", b)
    return b.v


@primitive("set-box!")
def set_box(b: Any, v: Any) -> Any:
    """(set-box! box v) -> makes box hold v."""
    if type(b) is not Box:
        raise type_error("set-box!", "a box", b)
    b.v = v
    return VOID
