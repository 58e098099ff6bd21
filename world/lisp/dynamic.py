"""The dynamic environment: exception handlers, parameter bindings, multiple
values and promises (R7RS 4.2.5-4.2.6, 6.10, 6.11).

Each evaluation's meter holds its dynamic state, so a sandbox (a child
meter) never sees its caller's handlers or parameter bindings. The state is
two stacks: `handlers` (procedures installed by `with-exception-handler`,
and `GUARD` markers pushed by `guard`, so that `raise` knows whether the
innermost handler is a procedure to call at the raise or a guard to unwind
to) and `params` (the parameters `parameterize` bound, innermost last; each
parameter's values are in `bound`, so reading one costs the same however deep).
Continuations are escape-only, so whoever catches an escape (`call/cc`)
restores the stacks to what they were when it was entered.
"""
from __future__ import annotations

from typing import Any

import persistent

from . import budget
from .calls import call
from .errors import ArityError, EvalError, LispTypeError, UserError
from .types import Box, Primitive, Procedure

GUARD = object()        # a `guard` on the handler stack: raise unwinds to it


class Dyn:
    """One evaluation's dynamic state."""

    __slots__ = ("handlers", "params", "bound")

    def __init__(self) -> None:
        self.handlers: list[Any] = []
        self.params: list[Any] = []
        self.bound: dict[Any, list[Any]] = {}

    def bind(self, param: Any, value: Any) -> None:
        """Give `param` the value `value` until `unbind_to` drops it."""
        self.params.append(param)
        stack = self.bound.get(param)
        if stack is None:
            self.bound[param] = [value]
        else:
            stack.append(value)

    def unbind_to(self, n: int) -> None:
        """Drop the parameter bindings made after the first `n`."""
        params, bound = self.params, self.bound
        while len(params) > n:
            p = params.pop()
            stack = bound[p]
            stack.pop()
            if not stack:
                del bound[p]


def state() -> Dyn:
    """The running evaluation's dynamic state."""
    m = budget.current()
    d = m.dyn
    if d is None:
        d = m.dyn = Dyn()
    return d


Mark = tuple[list, int, int]


def mark() -> Mark:
    """Where the stacks stand now, for `cut`."""
    d = state()
    return d.handlers, len(d.handlers), len(d.params)


def cut(mk: Mark) -> None:
    """Put the stacks back as they were at `mk`."""
    d = state()
    d.handlers = mk[0]
    del mk[0][mk[1]:]
    d.unbind_to(mk[2])


def guard_mark() -> Mark:
    """Entering a `guard` body: mark the stacks and push a guard marker (generated code)."""
    d = state()
    mk = d.handlers, len(d.handlers), len(d.params)
    d.handlers.append(GUARD)
    return mk


# ---------------------------------------------------------------- raising

def signal(obj: Any, exc: BaseException, continuable: bool) -> Any:
    """Raise `obj`: call the innermost handler procedure where the raise is, unless the
    innermost handler is a guard (then unwind to it as the Python exception `exc`)."""
    m = budget.current()
    d = m.dyn
    if d is None or not d.handlers or d.handlers[-1] is GUARD:
        raise exc
    hs = d.handlers
    i = len(hs) - 1
    value = call_handler(d, i, obj)
    if continuable:
        return value
    err = EvalError(f"exception handler returned from a non-continuable raise of {_show(obj)}")
    err.lisp_skip = i     # type: ignore[attr-defined]  (handlers from i up were consulted)
    raise err


def call_handler(d: Dyn, i: int, obj: Any) -> Any:
    """Call handler `i` on `obj` with only the handlers outside it installed; an error
    it raises goes to those outer handlers, never back to it."""
    hs = d.handlers
    budget.charge(i >> 4)       # copying the outer handlers
    d.handlers = hs[:i]
    try:
        return call(hs[i], obj)
    except BaseException as e:
        if not hasattr(e, "lisp_skip"):
            try:
                e.lisp_skip = i     # type: ignore[attr-defined]
            except AttributeError:
                pass
        raise
    finally:
        d.handlers = hs


def _show(x: Any) -> str:
    from .primitives.check import show
    return show(x, 60)


# ---------------------------------------------------------------- multiple values

class Values:
    """Zero or several values returned at once by `values`."""

    __slots__ = ("items",)

    def __init__(self, items: tuple) -> None:
        self.items = items

    def __eq__(self, other: Any) -> bool:
        return type(other) is Values and other.items == self.items

    def __hash__(self) -> int:
        return hash(self.items)

    def __reduce__(self):
        raise LispTypeError("multiple values cannot be stored; receive them with "
                            "let-values, define-values or call-with-values")


def spread(x: Any) -> tuple:
    """The values `x` stands for: the items of a `Values`, else `x` alone."""
    return x.items if type(x) is Values else (x,)


# ---------------------------------------------------------------- parameters

class Parameter(Procedure, persistent.Persistent):
    """A parameter object made by `make-parameter`: called with no argument, its value."""

    format_version = 1

    def __init__(self, value: Any, converter: Any = False) -> None:
        self.value = value
        self.converter = converter

    @property
    def fn(self) -> Any:
        return self.parameter_value

    def parameter_value(self, *args: Any) -> Any:
        """The value `parameterize` bound innermost, else the initial value."""
        if args:
            raise ArityError(f"a parameter takes no arguments (got {len(args)}); "
                             "use parameterize to give it another value")
        d = budget.current().dyn
        if d is not None and d.bound:
            stack = d.bound.get(self)
            if stack is not None:
                return stack[-1]
        return self.value


# Primitives that are parameters too (current-output-port & co), by name: the check of a
# value `parameterize` gives them (filled by primitives/ports.py).
PORT_PARAMS: dict[str, Any] = {}


def need_param(who: str, p: Any) -> Any:
    """`p`, or a type error if it is not a parameter object."""
    if type(p) is not Parameter and not (type(p) is Primitive and p.name in PORT_PARAMS):
        raise LispTypeError(f"{who}: expected a parameter object, got {_show(p)}")
    return p


# ---------------------------------------------------------------- promises

class Promise(persistent.Persistent):
    """`delay`, `delay-force` and `make-promise`: `box.v` is (done, value-or-thunk, lazy);
    promises chained by `delay-force` share one box (R7RS's reference implementation)."""

    format_version = 1

    def __init__(self, done: bool, value: Any, lazy: bool = False) -> None:
        self.box = Box((done, value, lazy))


def force(p: Any) -> Any:
    """The value of promise `p` (computed once); anything else is its own value."""
    if type(p) is not Promise:
        return p
    while True:
        done, value, lazy = p.box.v
        if done:
            return value
        budget.charge(1)        # a chain of delay-force runs in this loop, not on the stack
        if not isinstance(value, Procedure):
            raise LispTypeError(f"force: a promise's body is not a procedure: {_show(value)}")
        r = call(value)
        if p.box.v[0]:          # forced again from inside its own body: the first value wins
            return p.box.v[1]
        if not lazy or type(r) is not Promise:
            p.box.v = (True, r, False)
            return r
        p.box.v = r.box.v
        r.box = p.box


def user_error(obj: Any) -> UserError:
    """The Python exception `raise` throws for `obj`."""
    from .types import ErrorObject
    if type(obj) is ErrorObject:
        return UserError(obj, obj.message)
    return UserError(obj, f"uncaught raise: {_show(obj)}")


def _write_values(v: Values, display: bool) -> str:
    """`#<values 1 2>`: never mistaken for the values themselves inside a list."""
    from .printer import display as show_display, write
    return "".join(["#<values", *(" " + (show_display if display else write)(x) for x in v.items), ">"])


def _register_printers() -> None:
    from . import printer
    printer._ATOMS[Values] = _write_values
    printer._ATOMS[Promise] = lambda x, d: "#<promise>"
    printer._ATOMS[Parameter] = lambda x, d: "#<parameter>"


_register_printers()
