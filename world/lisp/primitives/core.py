"""Control primitives: apply, call/cc, errors, eval, read, gensym, records."""
from __future__ import annotations

from typing import Any

from .. import budget
from ..calls import call
from ..errors import EvalError, LispTypeError, UserError
from ..types import (Continuation, ErrorObject, Record, RecordType,
                     Symbol, VOID, make_list, to_pylist)
from ..dynamic import signal, user_error
from . import primitive
from .check import ABSENT


def _env() -> Any:
    return budget.current().ns["_env"]


def _show(x: Any) -> str:
    from .check import show
    return show(x, 60)


IRRITANTS_SHOWN = 8     # an error's one-line message names at most this many irritants
MESSAGE_SHOWN = 200     # and at most this much of its message


@primitive("apply")
def apply_(proc: Any, *args: Any) -> Any:
    """(apply proc arg... list) -> proc applied to the args and the list's elements."""
    if not args:
        return call(proc)
    spread = list(args[:-1]) + to_pylist(args[-1], "apply")
    budget.charge(len(spread) // 8)
    return call(proc, *spread)


@primitive("call/cc")
def call_cc(proc: Any) -> Any:
    """(call/cc proc) -> calls proc with an escaping continuation."""
    from ..runtime import Escape
    from ..dynamic import Values, cut, mark
    k = Continuation(None)
    here = mark()

    def escape(*values: Any) -> Any:
        if not k.live:
            raise EvalError("continuation called after its extent ended (continuations "
                            "are escape-only: call one only while its call/cc is running)")
        raise Escape(k, values[0] if len(values) == 1 else Values(values))

    k.fn = escape
    try:
        return call(proc, k)
    except Escape as e:
        if e.k is k:
            cut(here)       # the handlers and parameter bindings of the escape's extent end
            return e.value
        raise
    finally:
        k.live = False


call_with_current_continuation = primitive("call-with-current-continuation")(call_cc)


@primitive("error")
def error(message: Any, *irritants: Any) -> Any:
    """(error message irritant...) raises an error object."""
    if type(message) is not str:
        message = _show(message)
    budget.alloc(len(irritants) * budget.PAIR_BYTES)
    obj = ErrorObject(message, make_list(irritants))
    text = message if len(message) <= MESSAGE_SHOWN else message[:MESSAGE_SHOWN] + "..."
    text += "".join(" " + _show(i) for i in irritants[:IRRITANTS_SHOWN])
    if len(irritants) > IRRITANTS_SHOWN:
        text += f" ... ({len(irritants) - IRRITANTS_SHOWN} more)"
    return signal(obj, UserError(obj, text), False)


@primitive("raise")
def raise_(obj: Any) -> Any:
    """(raise obj) raises any value as a condition."""
    return signal(obj, user_error(obj), False)


@primitive("error-object?")
def error_object_p(x: Any) -> bool:
    """(error-object? x)"""
    return type(x) is ErrorObject


@primitive("error-object-message")
def error_object_message(e: Any) -> str:
    """(error-object-message e) -> the message string."""
    if type(e) is not ErrorObject:
        raise LispTypeError(f"error-object-message: expected an error object, got {_show(e)}")
    return e.message


@primitive("error-object-irritants")
def error_object_irritants(e: Any) -> Any:
    """(error-object-irritants e) -> the list of irritants."""
    if type(e) is not ErrorObject:
        raise LispTypeError(f"error-object-irritants: expected an error object, got {_show(e)}")
    return e.irritants


@primitive("void")
def void(*args: Any) -> Any:
    """(void) -> the unspecified value."""
    return VOID


@primitive("eval", group="eval", unsafe=True)
def eval_(form: Any, env: Any = None) -> Any:
    """(eval form [environment]) -> the value of form, in this same sandbox and budget."""
    from ..compiler import compile_form
    from ..calls import bounce
    if env is not None:         # every specifier means this world's globals (r7rs_compat)
        from ..r7rs_compat import check_environment
        check_environment("eval", env)
    value = compile_form(_env(), form, metered=True)()
    return bounce(value)


@primitive("read")
def read_(text: Any = ABSENT) -> Any:
    """(read [string-or-port]) -> the first form in string, or the next datum of an input port (eof at its end)."""
    from ..reader import read
    from .ports import ConsolePort, InputPort, read_datum
    if text is ABSENT or type(text) is InputPort or type(text) is ConsolePort:  # (read): the current input port
        return read_datum(text)
    if type(text) is not str:
        raise LispTypeError(f"read: expected a string, got {_show(text)}")
    return read(text)           # the reader charges per token and character as it goes


@primitive("gensym")
def gensym(prefix: Any = "g") -> Symbol:
    """(gensym [prefix]) -> a fresh symbol no program has used."""
    if type(prefix) is Symbol:
        prefix = prefix.name
    if type(prefix) is not str:
        raise LispTypeError("gensym: prefix must be a string or symbol")
    return _env().gensym(prefix)


# -- records: the procedures that define-record generates call these

def _check_type(rt: Any, who: str) -> RecordType:
    """A forged call (these are internal, but cheap to guard) is a type error, not a crash."""
    if type(rt) is not RecordType:
        raise LispTypeError(f"{who}: expected a record type, got {_show(rt)}")
    return rt


def _check_index(rt: RecordType, i: Any, who: str) -> int:
    if type(i) is not int or not 0 <= i < len(rt.fields):
        raise LispTypeError(f"{who}: {rt.name} has no field {_show(i)}")
    return i


def _check_record(rt: RecordType, r: Any, who: str) -> Record:
    if type(r) is not Record or r.rtype != rt:
        raise LispTypeError(f"{rt.name}-{who}: expected a {rt.name}, got {_show(r)}")
    return r


@primitive("%record-make", group="internal")
def record_make(rt: RecordType, *values: Any) -> Record:
    """(%record-make type value...)"""
    _check_type(rt, "%record-make")
    if len(values) != len(rt.fields):
        raise LispTypeError(f"make-{rt.name}: expected {len(rt.fields)} values, got {len(values)}")
    budget.alloc(64 + 8 * len(values))
    return Record(rt, list(values))


@primitive("%record?", group="internal")
def record_p(rt: RecordType, x: Any) -> bool:
    """(%record? type x)"""
    _check_type(rt, "%record?")
    return type(x) is Record and x.rtype == rt


@primitive("%record-ref", group="internal")
def record_ref(rt: RecordType, r: Any, i: int) -> Any:
    """(%record-ref type record index)"""
    i = _check_index(_check_type(rt, "%record-ref"), i, "%record-ref")
    return _check_record(rt, r, rt.fields[i]).values[i]


@primitive("%record-set!", group="internal")
def record_set(rt: RecordType, r: Any, i: int, v: Any) -> Any:
    """(%record-set! type record index value)"""
    i = _check_index(_check_type(rt, "%record-set!"), i, "%record-set!")
    _check_record(rt, r, rt.fields[i]).set_field(i, v)
    return VOID
