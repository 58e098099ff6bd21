"""Control primitives of R7RS 6.10-6.11: multiple values, dynamic-wind,
parameters, promises, exception handlers; and the internal procedures the
special forms of `control.py` (the forms) call."""
from __future__ import annotations

from typing import Any

from .. import budget
from ..calls import TailCall, call
from ..dynamic import (PORT_PARAMS, Parameter, Promise, Values, force as force_, need_param, spread, state,
                       user_error, signal)
from ..errors import ArityError, EvalError
from ..types import ErrorObject, Symbol, to_pylist
from . import primitive
from .check import need_proc, show, type_error


def _unwinding() -> tuple:
    """The exceptions that leave a dynamic extent in a way the program can observe
    (`guard` catches them, or a continuation escapes): `after` thunks run for these,
    never for a spent budget or an interrupt, which end the whole evaluation."""
    from ..runtime import CATCHABLE, Escape
    return CATCHABLE + (Escape,)


# ---------------------------------------------------------------- multiple values

@primitive("values")
def values(*xs: Any) -> Any:
    """(values x ...) -> x ... as multiple values (one value is just itself)."""
    if len(xs) == 1:
        return xs[0]
    budget.alloc(16 + 8 * len(xs))
    return Values(xs)


@primitive("call-with-values")
def call_with_values(producer: Any, consumer: Any) -> Any:
    """(call-with-values producer consumer) -> consumer applied to the values producer returns."""
    need_proc("call-with-values", producer)
    need_proc("call-with-values", consumer)
    return call(consumer, *spread(call(producer)))


@primitive("%values-list", group="internal")
def values_list(x: Any, n: int, rest: bool, who: str) -> Any:
    """(%values-list vals n rest? who) -> a vector of exactly n values (and the rest as a list)."""
    from ..types import make_list
    items = spread(x)
    if len(items) < n or (len(items) > n and not rest):
        want = f"at least {n}" if rest else f"{n}"
        raise ArityError(f"{who}: expected {want} value{'s' if n != 1 else ''}, got {len(items)}")
    budget.alloc(16 + 8 * len(items))
    return items[:n] + (make_list(items[n:]),) if rest else items


@primitive("%values-ref", group="internal")
def values_ref(vec: tuple, i: int) -> Any:
    """(%values-ref vals i) -> the i-th of the values %values-list unpacked."""
    return vec[i]


# ---------------------------------------------------------------- dynamic-wind

@primitive("dynamic-wind")
def dynamic_wind(before: Any, thunk: Any, after: Any) -> Any:
    """(dynamic-wind before thunk after) -> thunk's value; after runs however thunk is left
    (a value, an error, an escaping continuation)."""
    for f in (before, thunk, after):
        need_proc("dynamic-wind", f)
    call(before)
    try:
        r = call(thunk)
    except _unwinding():
        call(after)
        raise
    call(after)
    return r


# ---------------------------------------------------------------- parameters

@primitive("make-parameter")
def make_parameter(value: Any, converter: Any = False) -> Parameter:
    """(make-parameter value [converter]) -> a parameter object whose value is (converter value)."""
    if converter is not False:
        need_proc("make-parameter", converter)
        value = call(converter, value)
    budget.alloc(64)
    return Parameter(value, converter)


@primitive("%parameterize", group="internal")
def parameterize(thunk: Any, *pv: Any) -> Any:
    """(%parameterize thunk param value ...) -> thunk's value with each param bound to value."""
    pairs = []
    for p, v in zip(pv[::2], pv[1::2]):
        need_param("parameterize", p)
        if type(p) is not Parameter:        # a port parameter: its value must be a port
            v = PORT_PARAMS[p.name](v)
        elif p.converter is not False:
            v = call(p.converter, v)
        pairs.append((p, v))
    d = state()
    n = len(d.params)
    for p, v in pairs:
        d.bind(p, v)
    try:
        return call(thunk)
    finally:
        d.unbind_to(n)


# ---------------------------------------------------------------- promises

@primitive("force")
def force(p: Any) -> Any:
    """(force promise) -> the promise's value, computed the first time; a non-promise is itself."""
    return force_(p)


@primitive("make-promise")
def make_promise(x: Any) -> Promise:
    """(make-promise x) -> a promise already holding x (x itself if it is a promise)."""
    if type(x) is Promise:
        return x
    budget.alloc(64)
    return Promise(True, x)


@primitive("promise?")
def promise_p(x: Any) -> bool:
    """(promise? x)"""
    return type(x) is Promise


@primitive("%make-promise", group="internal")
def make_lazy(lazy: bool, thunk: Any) -> Promise:
    """(%make-promise lazy? thunk): what delay and delay-force make."""
    budget.alloc(64)
    return Promise(False, thunk, lazy is True)


# ---------------------------------------------------------------- case-lambda

@primitive("%case-lambda", group="internal")
def case_lambda(args: Any, arities: tuple, *procs: Any) -> Any:
    """(%case-lambda args arities proc ...) -> args applied to the first proc whose arity fits."""
    items = to_pylist(args, "case-lambda")
    n = len(items)
    budget.charge(len(procs) // 4)
    for code, proc in zip(arities, procs):
        req, rest = code >> 1, code & 1
        if n == req or (rest and n > req):
            return TailCall(proc, tuple(items))
    raise ArityError(f"case-lambda: no clause takes {n} argument{'s' if n != 1 else ''}")


# ---------------------------------------------------------------- exceptions

@primitive("with-exception-handler")
def with_exception_handler(handler: Any, thunk: Any) -> Any:
    """(with-exception-handler handler thunk) -> thunk's value; a condition raised inside
    is passed to handler (whose value raise-continuable returns)."""
    from ..runtime import CATCHABLE, condition
    need_proc("with-exception-handler", handler)
    need_proc("with-exception-handler", thunk)
    d = state()
    hs, j, np = d.handlers, len(d.handlers), len(d.params)
    hs.append(handler)
    try:
        return call(thunk)
    except CATCHABLE as e:
        if getattr(e, "lisp_skip", j + 1) <= j:
            raise       # this handler (or an inner one, and then this) already saw it
        # An error a primitive raised, or a raise that unwound here through a guard:
        # the handler sees it as it leaves the thunk.
        d.handlers = hs
        del hs[j:]
        d.unbind_to(np)
        obj = condition(e)
        try:
            call(handler, obj)
        except BaseException as inner:
            if not hasattr(inner, "lisp_skip"):
                try:
                    inner.lisp_skip = j     # type: ignore[attr-defined]
                except AttributeError:
                    pass
            raise
        err = EvalError(f"exception handler returned from a non-continuable raise of "
                        f"{show(obj, 60)}")
        err.lisp_skip = j       # type: ignore[attr-defined]
        raise err from None
    finally:
        d.handlers = hs
        del hs[j:]
        d.unbind_to(np)


@primitive("raise-continuable")
def raise_continuable(obj: Any) -> Any:
    """(raise-continuable obj) -> what the innermost exception handler returns for obj."""
    return signal(obj, user_error(obj), True)


@primitive("read-error?")
def read_error_p(x: Any) -> bool:
    """(read-error? x) -> is x the condition of a read error (e.g. from read)?"""
    return type(x) is ErrorObject and x.message.startswith(("read error:", "incomplete input:"))


@primitive("file-error?")
def file_error_p(x: Any) -> bool:
    """(file-error? x) -> is x the condition of a file error? (sandboxes open no files)"""
    return type(x) is ErrorObject and x.message.startswith("file error:")


# ---------------------------------------------------------------- equivalence

def _all_same(who: str, kind: type, what: str, xs: tuple) -> bool:
    if len(xs) < 2:
        raise ArityError(f"{who}: expected at least 2 arguments, got {len(xs)}")
    for x in xs:
        if type(x) is not kind:
            raise type_error(who, what, x)
    budget.charge(len(xs) // 8)
    return all(x is xs[0] for x in xs[1:])


@primitive("boolean=?")
def boolean_eq(*xs: Any) -> bool:
    """(boolean=? a b c ...) -> are the booleans all the same?"""
    return _all_same("boolean=?", bool, "a boolean", xs)


@primitive("symbol=?")
def symbol_eq(*xs: Any) -> bool:
    """(symbol=? a b c ...) -> are the symbols all the same?"""
    return _all_same("symbol=?", Symbol, "a symbol", xs)



@primitive("features")
def features() -> Any:
    """(features) -> the feature identifiers cond-expand recognizes."""
    from ..control import features as known
    return known()
