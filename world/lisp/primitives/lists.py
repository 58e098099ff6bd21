"""List primitives: pairs, lists, and the procedures that walk them.

Pairs are immutable, so a list is never circular, and a walk that calls back
into Lisp may first copy the elements into a Python list. Every walk is a
loop, charged a step per element; every new list is accounted before it is
built. `assoc` is shared with maps: on a map it adds entries.
"""
from __future__ import annotations

from itertools import product
from typing import Any, Callable, Iterable

from .. import budget
from ..budget import PAIR_BYTES
from ..calls import call
from ..errors import ArityError, EvalError
from ..types import LispMap, Pair, VOID, equal, eqv, hash_value, make_list
from . import primitive
from .numbers import ABSENT, exact, need_count, need_number, need_proc, show, to_float, type_error


# ---------------------------------------------------------------- helpers

def elements(who: str, lst: Any) -> list[Any]:
    """The elements of a proper list, charging a step per element."""
    out = []
    x = lst
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    if x is not None:
        raise type_error(who, "a proper list", lst)
    budget.charge(len(out))
    return out


def new_list(items: list[Any] | tuple, tail: Any = None) -> Any:
    """A new Lisp list of `items`, accounted and charged (a step a cell) before it is built."""
    budget.alloc(len(items) * PAIR_BYTES)
    budget.charge(len(items))
    return make_list(items, tail)


def columns(who: str, lists: tuple) -> list[tuple]:
    """Tuples of the lists' elements taken in step, up to the shortest list."""
    if len(lists) == 1:
        return [(x,) for x in elements(who, lists[0])]
    return list(zip(*(elements(who, lst) for lst in lists)))


# ---------------------------------------------------------------- pairs

@primitive("cons")
def cons(a: Any, b: Any) -> Pair:
    """(cons a b) -> a new pair of a and b."""
    budget.alloc(PAIR_BYTES)
    return Pair(a, b)


@primitive("car")
def car(x: Any) -> Any:
    """(car pair) -> the first part of pair."""
    if type(x) is not Pair:
        raise type_error("car", "a pair", x)
    return x.car


@primitive("cdr")
def cdr(x: Any) -> Any:
    """(cdr pair) -> the second part of pair."""
    if type(x) is not Pair:
        raise type_error("cdr", "a pair", x)
    return x.cdr


def _define_cxr(name: str) -> None:
    """Register `name` (such as `cadr`), a composition of car and cdr."""
    path = name[-2:0:-1]            # the letters, innermost first: cadr -> d, a
    shape = "x"
    for letter in path:
        shape = f"(c{letter}r {shape})"

    def cxr(x: Any) -> Any:
        y = x
        for letter in path:
            if type(y) is not Pair:
                raise type_error(name, "a list deep enough for " + shape, x)
            y = y.car if letter == "a" else y.cdr
        return y

    cxr.__name__ = cxr.__qualname__ = name
    primitive(name, doc=f"({name} x) -> {shape}.")(cxr)


# R7RS (scheme cxr): every composition of two to four cars and cdrs
for _name in ["c" + "".join(p) + "r" for n in (2, 3, 4) for p in product("ad", repeat=n)]:
    _define_cxr(_name)


@primitive("pair?")
def is_pair(x: Any) -> bool:
    """(pair? x) -> whether x is a pair."""
    return type(x) is Pair


@primitive("null?")
def is_null(x: Any) -> bool:
    """(null? x) -> whether x is the empty list."""
    return x is None


# ---------------------------------------------------------------- building and measuring

@primitive("list")
def list_(*items: Any) -> Any:
    """(list x ...) -> a new list of the arguments."""
    return new_list(items)


@primitive("list?")
def is_list(x: Any) -> bool:
    """(list? x) -> whether x is a proper list."""
    n = 0
    while type(x) is Pair:
        x = x.cdr
        n += 1
    budget.charge(n)
    return x is None


@primitive("length")
def length(lst: Any) -> int:
    """(length lst) -> the number of elements of the proper list lst."""
    return len(elements("length", lst))


@primitive("make-list")
def make_list_(n: Any, fill: Any = False) -> Any:
    """(make-list n [fill]) -> a list of n copies of fill (default #f)."""
    budget.check_length(need_count("make-list", n), "list")
    budget.charge(n)
    out = None
    for _ in range(n):
        out = Pair(fill, out)
    return out


@primitive("iota")
def iota(count: Any, start: Any = 0, step: Any = 1) -> Any:
    """(iota count [start [step]]) -> the list start, start+step, ... of count numbers."""
    need_count("iota", count)
    need_number("iota", start)
    need_number("iota", step)
    budget.check_length(count, "list")
    budget.charge(count)
    if type(start) is float or type(step) is float:
        start, step = to_float(start), to_float(step)
        return make_list([start + i * step for i in range(count)])
    if count:
        exact(start + (count - 1) * step)       # the extreme value fits, so all do
    return make_list([exact(start + i * step) for i in range(count)])


@primitive("append")
def append(*lists: Any) -> Any:
    """(append lst ... tail) -> the lists joined; the last argument is shared, not copied."""
    if not lists:
        return None
    heads = [elements("append", lst) for lst in lists[:-1]]
    budget.check_length(sum(map(len, heads)), "list")
    budget.charge(sum(map(len, heads)))
    out = lists[-1]
    for items in reversed(heads):
        out = make_list(items, out)
    return out


@primitive("reverse")
def reverse(lst: Any) -> Any:
    """(reverse lst) -> a new list of the elements of lst in reverse order."""
    items = elements("reverse", lst)
    budget.alloc(len(items) * PAIR_BYTES)
    out = None
    for x in items:
        out = Pair(x, out)
    return out


@primitive("list-copy")
def list_copy(x: Any) -> Any:
    """(list-copy x) -> a copy of the spine of x; an improper tail is kept."""
    items = []
    tail = x
    while type(tail) is Pair:
        items.append(tail.car)
        tail = tail.cdr
    budget.charge(len(items))
    return new_list(items, tail)


def _drop(who: str, lst: Any, k: Any) -> Any:
    """The list after k elements of lst, or an error if it is shorter."""
    need_count(who, k)
    x = lst
    for i in range(k):
        if type(x) is not Pair:
            budget.charge(i)
            if x is None:
                raise EvalError(f"{who}: index {show(k)} out of range for a list of length {i}")
            raise type_error(who, "a proper list", lst)
        x = x.cdr
    budget.charge(k)
    return x


@primitive("list-tail")
def list_tail(lst: Any, k: Any) -> Any:
    """(list-tail lst k) -> the sublist of lst after k elements."""
    return _drop("list-tail", lst, k)


@primitive("list-ref")
def list_ref(lst: Any, k: Any) -> Any:
    """(list-ref lst k) -> element k of lst, counting from 0."""
    x = _drop("list-ref", lst, k)
    if type(x) is not Pair:
        if x is None:
            raise EvalError(f"list-ref: index {show(k)} out of range for a list of length {k}")
        raise type_error("list-ref", "a proper list", lst)
    return x.car


@primitive("last")
def last(lst: Any) -> Any:
    """(last lst) -> the last element of the non-empty list lst."""
    items = elements("last", lst)
    if not items:
        raise type_error("last", "a non-empty list", lst)
    return items[-1]


# ---------------------------------------------------------------- higher order

@primitive("map")
def map_(f: Any, lst: Any, *more: Any) -> Any:
    """(map f lst ...) -> the list of (f x ...) for elements taken in step, up to the shortest list."""
    need_proc("map", f)
    return new_list([call(f, *xs) for xs in columns("map", (lst,) + more)])


@primitive("for-each")
def for_each(f: Any, lst: Any, *more: Any) -> Any:
    """(for-each f lst ...) -> calls (f x ...) on elements in step, for effect."""
    need_proc("for-each", f)
    for xs in columns("for-each", (lst,) + more):
        call(f, *xs)
    return VOID


@primitive("filter")
def filter_(pred: Any, lst: Any) -> Any:
    """(filter pred lst) -> the elements of lst for which pred is true."""
    need_proc("filter", pred)
    return new_list([x for x in elements("filter", lst) if call(pred, x) is not False])


@primitive("remove")
def remove(pred: Any, lst: Any) -> Any:
    """(remove pred lst) -> the elements of lst for which pred is false."""
    need_proc("remove", pred)
    return new_list([x for x in elements("remove", lst) if call(pred, x) is False])


@primitive("reduce")
def reduce(f: Any, init: Any, lst: Any) -> Any:
    """(reduce f init lst) -> init for (), else (f x acc) folded from the first element."""
    need_proc("reduce", f)
    items = elements("reduce", lst)
    if not items:
        return init
    acc = items[0]
    for x in items[1:]:
        acc = call(f, x, acc)
    return acc


@primitive("fold-left")
def fold_left(f: Any, init: Any, lst: Any, *more: Any) -> Any:
    """(fold-left f init lst ...) -> (f (f init x1) x2) ...: the accumulator comes first."""
    need_proc("fold-left", f)
    acc = init
    for xs in columns("fold-left", (lst,) + more):
        acc = call(f, acc, *xs)
    return acc


@primitive("fold-right")
def fold_right(f: Any, init: Any, lst: Any, *more: Any) -> Any:
    """(fold-right f init lst ...) -> (f x1 (f x2 ... init)): the accumulator comes last."""
    need_proc("fold-right", f)
    acc = init
    for xs in reversed(columns("fold-right", (lst,) + more)):
        acc = call(f, *xs, acc)
    return acc


@primitive("fold")
def fold(f: Any, init: Any, lst: Any, *more: Any) -> Any:
    """(fold f init lst ...) -> (f x2 (f x1 init)) ...: from the left, accumulator last."""
    need_proc("fold", f)
    acc = init
    for xs in columns("fold", (lst,) + more):
        acc = call(f, *xs, acc)
    return acc


@primitive("list-index")
def list_index(pred: Any, lst: Any, *more: Any) -> Any:
    """(list-index pred lst ...) -> the index of the first elements satisfying pred, or #f."""
    need_proc("list-index", pred)
    for i, xs in enumerate(columns("list-index", (lst,) + more)):
        if call(pred, *xs) is not False:
            return i
    return False


@primitive("any")
def any_(pred: Any, lst: Any, *more: Any) -> Any:
    """(any pred lst ...) -> the first true value of pred on elements in step, or #f."""
    need_proc("any", pred)
    for xs in columns("any", (lst,) + more):
        r = call(pred, *xs)
        if r is not False:
            return r
    return False


@primitive("every")
def every(pred: Any, lst: Any, *more: Any) -> Any:
    """(every pred lst ...) -> #f if pred is false on some elements, else its last value (#t for none)."""
    need_proc("every", pred)
    r: Any = True
    for xs in columns("every", (lst,) + more):
        r = call(pred, *xs)
        if r is False:
            return False
    return r


# ---------------------------------------------------------------- searching

def _member(who: str, x: Any, lst: Any, same: Callable[[Any, Any], bool]) -> Any:
    p, n = lst, 0
    while type(p) is Pair:
        if same(x, p.car):
            budget.charge(n)
            return p
        p = p.cdr
        n += 1
    budget.charge(n)
    if p is not None:
        raise type_error(who, "a proper list", lst)
    return False


def _call_test(test: Any) -> Callable[[Any, Any], bool]:
    return lambda a, b: call(test, a, b) is not False


@primitive("memq")
def memq(x: Any, lst: Any) -> Any:
    """(memq x lst) -> the first sublist of lst whose car is eq? to x, or #f."""
    return _member("memq", x, lst, eqv)


@primitive("memv")
def memv(x: Any, lst: Any) -> Any:
    """(memv x lst) -> the first sublist of lst whose car is eqv? to x, or #f."""
    return _member("memv", x, lst, eqv)


@primitive("member")
def member(x: Any, lst: Any, test: Any = ABSENT) -> Any:
    """(member x lst [same?]) -> the first sublist of lst whose car is equal? (or same?) to x, or #f."""
    same = equal if test is ABSENT else _call_test(need_proc("member", test))
    return _member("member", x, lst, same)


def _assoc_list(who: str, key: Any, alist: Any, same: Callable[[Any, Any], bool]) -> Any:
    p, n = alist, 0
    while type(p) is Pair:
        entry = p.car
        if type(entry) is not Pair:
            raise type_error(who, "an association list", alist)
        if same(key, entry.car):
            budget.charge(n)
            return entry
        p = p.cdr
        n += 1
    budget.charge(n)
    if p is not None:
        raise type_error(who, "an association list", alist)
    return False


@primitive("assq")
def assq(key: Any, alist: Any) -> Any:
    """(assq key alist) -> the first pair of alist whose car is eq? to key, or #f."""
    return _assoc_list("assq", key, alist, eqv)


@primitive("assv")
def assv(key: Any, alist: Any) -> Any:
    """(assv key alist) -> the first pair of alist whose car is eqv? to key, or #f."""
    return _assoc_list("assv", key, alist, eqv)


def map_with(m: LispMap, kvs: Iterable[tuple[Any, Any]], added: int) -> LispMap:
    """A copy of `m` with the entries `kvs` added, charged for the copy."""
    budget.charge(len(m) // 8 + added)
    budget.alloc(added * PAIR_BYTES)
    return LispMap([*m.items(), *kvs])


@primitive("assoc")
def assoc(a: Any, b: Any, *rest: Any) -> Any:
    """(assoc key alist [same?]) -> the first pair of alist whose car is equal? to key, or #f;
    (assoc map k v ...) -> a new map with k bound to v."""
    if type(a) is LispMap:
        kvs = (b,) + rest
        if len(kvs) % 2:
            raise EvalError(f"assoc: key {show(kvs[-1])} has no value")
        return map_with(a, zip(kvs[::2], kvs[1::2]), len(kvs) // 2)
    if len(rest) > 1:
        raise ArityError("assoc: expected (assoc key alist [same?]) or (assoc map k v ...)")
    same = equal if not rest else _call_test(need_proc("assoc", rest[0]))
    return _assoc_list("assoc", a, b, same)


# ---------------------------------------------------------------- removing

@primitive("delete")
def delete(x: Any, lst: Any, test: Any = ABSENT) -> Any:
    """(delete x lst [same?]) -> lst without the elements equal? (or same?) to x."""
    same = equal if test is ABSENT else _call_test(need_proc("delete", test))
    return new_list([y for y in elements("delete", lst) if not same(x, y)])


@primitive("delete-duplicates")
def delete_duplicates(lst: Any, test: Any = ABSENT) -> Any:
    """(delete-duplicates lst [same?]) -> lst keeping only the first of equal? (or same?) elements."""
    items = elements("delete-duplicates", lst)
    kept: list[Any] = []
    if test is ABSENT:
        buckets: dict[int, list[Any]] = {}
        for x in items:
            seen = buckets.setdefault(hash_value(x), [])
            if not any(equal(x, y) for y in seen):
                seen.append(x)
                kept.append(x)
    else:
        same = _call_test(need_proc("delete-duplicates", test))
        for x in items:
            budget.charge(len(kept))
            if not any(same(y, x) for y in kept):
                kept.append(x)
    return new_list(kept)


# ---------------------------------------------------------------- sorting

class _Ordered:
    """An element wrapped so that Python's sort compares it with a Lisp `less?`."""

    __slots__ = ("x", "less")

    def __init__(self, x: Any, less: Any) -> None:
        self.x = x
        self.less = less

    def __lt__(self, other: "_Ordered") -> bool:
        return call(self.less, self.x, other.x) is not False


@primitive("sort")
def sort(seq: Any, less: Any) -> Any:
    """(sort seq less?) -> a list or vector of the elements of seq, stably sorted by less?."""
    need_proc("sort", less)
    if type(seq) is tuple:
        items = list(seq)
    elif seq is None or type(seq) is Pair:
        items = elements("sort", seq)
    else:
        raise type_error("sort", "a list or vector", seq)
    n = len(items)
    budget.charge(n * max(1, n.bit_length()))
    # list.sort is a stable merge sort that compares only with `<`
    ordered = sorted(_Ordered(x, less) for x in items)
    if type(seq) is tuple:
        budget.alloc(8 * n)
        return tuple(o.x for o in ordered)
    return new_list([o.x for o in ordered])
