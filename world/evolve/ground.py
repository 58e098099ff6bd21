"""Ground helpers for `my-eval`: the environment data structure, in Python.

`my-eval` (world/evolve/seed-eval.lisp) is written in the world's Lisp, but
looking a name up on every variable reference is where an interpreter spends
its time, so the environment's few operations are primitives here.

An environment is Lisp data: `()` is the world's global environment (the
running environment's namespace, where a `define` becomes a world
definition); otherwise it is a list of frames, innermost first, each frame a
box holding an association list of (symbol . value) pairs. A closure made by
my-eval keeps the list; `define` inside a body adds to the innermost frame;
`set!` replaces the pair in the frame that binds the name, so every closure
sharing that frame sees the change.

The evaluator's own globals (my-eval and the helpers the seed defines) are
changed only by extend-eval!/edit-eval!, which test a change before keeping
it: a `define` or `set!` of one through my-eval is refused. `my-eval/eval` is
`eval` through the running environment's my-eval; a lineage binds it as
`eval`, so a cell's eval is charged as my-eval's steps and under its rules.
"""
from __future__ import annotations

from typing import Any

from ..lisp import budget
from ..lisp.analyze import mangle
from ..lisp.calls import call
from ..lisp.errors import ArityError, LispSyntaxError, LispTypeError, UnboundVariable
from ..lisp.primitives import primitive
from ..lisp.types import VOID, Box, Pair, Procedure, Symbol

_KEYS: dict[Symbol, str] = {}
_EVALUATOR: frozenset[str] = frozenset()


def evaluator_names() -> frozenset[str]:
    """The globals that are the evaluator: my-eval and the helpers the seed defines."""
    global _EVALUATOR
    if not _EVALUATOR:
        from .seeding import base_names     # seeding -> evaluator -> ground: imported late
        with budget.uncharged():            # reading the seed file is the host's, once
            _EVALUATOR = frozenset(base_names())
    return _EVALUATOR


GUARD_REASON = ("is part of the evaluator: change it with edit-eval! or extend-eval!, "
                "which test a change before keeping it")


def _not_the_evaluator(who: str, sym: Symbol) -> None:
    """Refuse a plain define or set! of one of the evaluator's own globals."""
    if sym.name in evaluator_names():
        from .evaluator import EvalRefused
        raise EvalRefused(f"{who}: {sym.name} {GUARD_REASON}")


def global_key(sym: Symbol) -> str:
    """The namespace key of a global name (cached: mangling is slow)."""
    key = _KEYS.get(sym)
    if key is None:
        key = _KEYS[sym] = "g_" + mangle(sym.name)
    return key


def running_env() -> Any:
    """The Environment of the evaluation running now."""
    return budget.current().ns["_env"]


def _frames(who: str, env: Any) -> Any:
    from ..lisp.r7rs_compat import is_environment
    if is_environment(env):     # (interaction-environment) and friends: the global environment
        return None
    if env is not None and type(env) is not Pair:
        raise LispTypeError(f"{who}: expected an environment (a list of frames), "
                            f"got a {type(env).__name__}")
    return env


@primitive("env-lookup", group="evaluator")
def env_lookup(env: Any, sym: Any) -> Any:
    """(env-lookup env sym) -> the value of sym in env, else the world's global."""
    p = env
    n = 0
    while type(p) is Pair:
        frame = p.car
        e = frame.v if type(frame) is Box else None
        while type(e) is Pair:
            entry = e.car
            if entry.car is sym:
                if n > 8:
                    budget.charge(n >> 3)
                return entry.cdr
            e = e.cdr
            n += 1
        p = p.cdr
    if type(sym) is not Symbol:
        raise LispTypeError("env-lookup: expected a symbol")
    if n > 8:
        budget.charge(n >> 3)
    key = _KEYS.get(sym) or global_key(sym)
    try:
        return budget.CURRENT.ns[key]
    except (KeyError, AttributeError):
        raise UnboundVariable(sym.name) from None


@primitive("env-extend", group="evaluator")
def env_extend(env: Any, params: Any, args: Any) -> Pair:
    """(env-extend env params args) -> env with a new frame binding params to args."""
    frame = None
    p, a = params, args
    while type(p) is Pair:
        if type(a) is not Pair:
            raise ArityError(f"too few arguments: expected {_count(params)}, got {_count(args)}")
        frame = Pair(Pair(p.car, a.car), frame)
        p, a = p.cdr, a.cdr
    if type(p) is Symbol:
        frame = Pair(Pair(p, a), frame)
    elif p is not None:
        raise LispSyntaxError("lambda: parameters must be symbols")
    elif a is not None:
        raise ArityError(f"too many arguments: expected {_count(params)}, got {_count(args)}")
    budget.alloc(64)
    return Pair(Box(frame), _frames("env-extend", env))


@primitive("env-bind", group="evaluator")
def env_bind(env: Any, sym: Any, value: Any) -> Pair:
    """(env-bind env sym value) -> env with a new frame binding one name (a fast path)."""
    return Pair(Box(Pair(Pair(sym, value), None)), env)


def _count(x: Any) -> str:
    n = 0
    while type(x) is Pair:
        n, x = n + 1, x.cdr
    return f"{n}+" if x is not None else str(n)


@primitive("env-define!", group="evaluator")
def env_define(env: Any, sym: Any, value: Any) -> Symbol:
    """(env-define! env sym value) binds sym in env's innermost frame, or defines a world global."""
    if type(sym) is not Symbol:
        raise LispSyntaxError("define: expected a name")
    if env is None:
        _not_the_evaluator("define", sym)
        running_env()._define(sym, value, None, "define", None)
        return sym
    frame = _frames("env-define!", env).car
    frame.v = Pair(Pair(sym, value), frame.v)
    return sym


@primitive("env-define-form!", group="evaluator")
def env_define_form(env: Any, sym: Any, value: Any, form: Any) -> Symbol:
    """(env-define-form! env sym value form) like env-define!, recording form as a global's source."""
    if env is None and type(sym) is Symbol:
        _not_the_evaluator("define", sym)
        doc = _docstring(form)
        running_env()._define(sym, value, form, "define", doc)
        return sym
    return env_define(env, sym, value)


def _docstring(form: Any) -> str | None:
    """The docstring of `(define (f ...) "doc" body...)`, if it has one."""
    try:
        if type(form.cdr.car) is Pair and type(form.cdr.cdr.car) is str and form.cdr.cdr.cdr is not None:
            return form.cdr.cdr.car
    except AttributeError:
        pass
    return None


@primitive("env-set!", group="evaluator")
def env_set(env: Any, sym: Any, value: Any) -> Any:
    """(env-set! env sym value) assigns sym where env binds it, else the world's global."""
    p = env
    while type(p) is Pair:
        frame = p.car
        e = frame.v
        while type(e) is Pair:
            if e.car.car is sym:
                frame.v = _replace(frame.v, sym, value)
                return VOID
            e = e.cdr
        p = p.cdr
    if type(sym) is not Symbol:
        raise LispSyntaxError("set!: expected a name")
    _not_the_evaluator("set!", sym)
    running_env()._setg(sym, value)
    return VOID


def _replace(alist: Any, sym: Symbol, value: Any) -> Any:
    items = []
    while alist.car.car is not sym:
        items.append(alist.car)
        alist = alist.cdr
    out = Pair(Pair(sym, value), alist.cdr)
    for entry in reversed(items):
        out = Pair(entry, out)
    return out


@primitive("form?", group="evaluator", inline="_type({0}) is _Pair and {0}.car is {1}")
def form_p(x: Any, name: Any) -> bool:
    """(form? x name) -> whether x is a list whose head is the symbol name."""
    return type(x) is Pair and x.car is name



@primitive("my-eval/eval", group="evaluator")
def eval_through_my_eval(form: Any, env: Any = None) -> Any:
    """(my-eval/eval form [env]) -> form evaluated by the running environment's my-eval
    (a lineage's `eval`), charged as my-eval's steps."""
    from .evalprims import ensure
    e = running_env()
    with budget.host_work():        # installing the seed on first use is the host's work
        ensure(e)
    proc = e.ns.get(global_key(Symbol("my-eval")))
    if not isinstance(proc, Procedure):
        raise LispTypeError("eval: my-eval is not a procedure in this environment")
    return call(proc, form, _frames("eval", env))
