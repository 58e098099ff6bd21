"""Running compiled code: budgets, the evaluation thread, errors, pausing.

Evaluation runs on one worker thread with a large stack and a raised
recursion limit, so non-tail recursion a few hundred thousand deep works and
deeper recursion is a clean depth error, never a crash of the host.

Host exceptions that escape compiled code (a non-procedure called, a wrong
argument count, an unbound name) are translated here into the world's own
errors, with a Lisp backtrace read off the Python traceback through the
compiler's line maps.

A paused evaluation is data, not pickle: `suspend.py` writes it as a
`world-suspension/1` JSON document; `start`, `resume` and `Suspension` are
re-exported here.
"""
from __future__ import annotations

import queue
import re
import sys
import threading
from typing import Any, Callable

from . import budget
from .budget import DEFAULT_LIMITS, Limits, Meter
from .calls import TailCall, bounce
from .errors import (ArityError, BudgetExceeded, EvalError, Frame, InternalError, LispError,
                     LispTypeError, ReadError, UnboundVariable, UserError)
from .types import Box, ErrorObject, Pair, Symbol
from .printer import write
from . import watchdog
from .watchdog import Stop

CATCHABLE = (EvalError, ReadError, TypeError, AttributeError, NameError, ZeroDivisionError,
             ValueError, OverflowError, KeyError, IndexError)

_TYPE_NAMES = {"int": "integer", "float": "real", "str": "string", "tuple": "vector",
               "NoneType": "empty list", "bool": "boolean", "Fraction": "rational",
               "Symbol": "symbol", "Keyword": "keyword", "Char": "character", "LispMap": "map",
               "Closure": "procedure", "Primitive": "procedure", "Box": "box",
               "Record": "record", "ErrorObject": "error object", "Void": "void",
               "Pair": "pair"}
_ATTR_OPS = {"car": "car: expected a pair", "cdr": "cdr: expected a pair",
             "fn": "not a procedure", "v": "expected a box"}


def _lisp_type(pyname: str) -> str:
    return _TYPE_NAMES.get(pyname, "value")


def translate(e: BaseException) -> LispError:
    """The world's error for an exception raised while running Lisp code."""
    from .compiler import demangle
    from .primitives import PYNAMES
    if isinstance(e, LispError):
        return e
    if isinstance(e, Stop):         # raised by the watchdog: time, interrupt or process memory
        return watchdog.error_for(budget.CURRENT)
    msg = str(e)
    if isinstance(e, RecursionError):
        return BudgetExceeded("depth", f"recursion deeper than {budget.limits().depth} calls")
    if isinstance(e, MemoryError):
        return BudgetExceeded("memory", "host memory exhausted")
    if isinstance(e, NameError):
        m = re.search(r"name 'g_(\w+)' is not defined", msg)
        return UnboundVariable(write(Symbol(demangle(m.group(1)))) if m else "unbound variable")
    if isinstance(e, AttributeError):
        m = re.search(r"'(\w+)' object has no attribute '(\w+)'", msg)
        if m:
            what = _ATTR_OPS.get(m.group(2), "bad operation")
            return LispTypeError(f"{what}, got {_article(_lisp_type(m.group(1)))}")
        return LispTypeError("bad operation on a value")
    if isinstance(e, TypeError):
        m = re.match(r"([\w.<>]+)\(\) (takes|missing|got) (.*)", msg)
        if m:
            py = m.group(1).rpartition(".")[2]
            name = PYNAMES.get(py) or _procedure_name(py)
            detail = re.sub(r"'l_(\w+?)_\d+'", lambda p: demangle(p.group(1)),
                            m.group(3).replace("positional ", ""))
            return ArityError(f"{name}: wrong number of arguments ({m.group(2)} {detail})")
        m = re.search(r"'(\w+)' and '(\w+)'", msg)
        if m:
            return LispTypeError(f"wrong argument types: {_article(_lisp_type(m.group(1)))} and "
                                 f"{_article(_lisp_type(m.group(2)))}")
        return LispTypeError("wrong type of argument")
    if isinstance(e, ZeroDivisionError):
        return EvalError("division by zero")
    if isinstance(e, (ValueError, OverflowError, KeyError, IndexError)):
        return EvalError(msg.splitlines()[0] if msg else type(e).__name__)
    if isinstance(e, Escape):
        return EvalError("continuation called after its extent ended")
    return InternalError(f"{type(e).__name__}: {msg}")  # type: ignore[return-value]


def _article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _procedure_name(pyfn: str) -> str:
    from .compiler import demangle
    m = re.match(r"f_(.*)_\d+$", pyfn)
    return demangle(m.group(1)) if m else pyfn


def condition(e: BaseException) -> Any:
    """The value a `guard` clause sees for a caught exception."""
    if isinstance(e, UserError):
        return e.payload
    err = translate(e)
    return ErrorObject(f"{err.kind}: {err.message}" if err.kind != "error" else err.message)


def backtrace(tb: Any) -> list[tuple[str, Any]]:
    """Lisp frames (procedure name, (line, col)) of a traceback, innermost first."""
    return [(f.name, f.loc) for f in lisp_frames(tb, 0)]


LOCALS_KEPT = 64        # innermost frames whose local variables an error keeps
_LOCAL = re.compile(r"^l_(.*)_(\d+)(b?)$")


def lisp_frames(tb: Any, keep: int = LOCALS_KEPT) -> list[Frame]:
    """The Lisp frames of a traceback, innermost first, the innermost `keep` with their
    local variables. Read only as an error unwinds, so normal calls pay nothing."""
    from .compiler import LINEMAPS
    found = []
    while tb is not None:
        code = tb.tb_frame.f_code
        info = LINEMAPS.get(code.co_filename)
        if info is not None:
            found.append((tb, info))
        tb = tb.tb_next
    found.reverse()
    frames = []
    for i, (tb, info) in enumerate(found):
        code = tb.tb_frame.f_code
        locs = info.locs
        line = tb.tb_lineno - 1
        loc = locs[line] if 0 <= line < len(locs) else None
        name = info.names.get(code.co_name, "top level" if code.co_name == "_top" else code.co_name)
        frames.append(Frame(name, loc, info.source, _locals(tb.tb_frame) if i < keep else None))
    return frames


def _locals(frame: Any) -> list[tuple[str, Any]]:
    """The Lisp variables of a compiled procedure's Python frame, in binding order (a
    captured-and-assigned variable is read through its box; the inner of two namesakes wins)."""
    from .compiler import demangle
    found: dict[str, tuple[int, bool, Any]] = {}
    for py, v in frame.f_locals.items():
        m = _LOCAL.match(py)
        if m is None:
            continue
        name, n, boxed = demangle(m.group(1)), int(m.group(2)), bool(m.group(3))
        if boxed and type(v) is Box:
            v = v.v
        old = found.get(name)
        if old is None or (n, boxed) > old[:2]:
            found[name] = (n, boxed, v)
    return [(name, v) for name, (_, _, v) in sorted(found.items(), key=lambda kv: kv[1][:2])]


class Escape(Exception):
    """Unwinds the stack to the `call/cc` whose continuation was invoked."""

    def __init__(self, k: Any, value: Any) -> None:
        self.k, self.value = k, value


# ---------------------------------------------------------------- the worker thread

STACK_BYTES = 1 << 30
_jobs: "queue.Queue[tuple[Callable, list]]" = queue.Queue()
_worker: threading.Thread | None = None
_lock = threading.Lock()


def _serve() -> None:
    budget.EVAL_THREAD = threading.get_ident()
    while True:
        fn, box = _jobs.get()
        try:
            box.append((True, fn()))
        except BaseException as e:  # handed back to the caller's thread
            box.append((False, e))
        finally:
            box[0].set()


def on_big_stack(fn: Callable[[], Any]) -> Any:
    """Run `fn` on the evaluation thread; Ctrl-C in the caller interrupts it."""
    global _worker
    if threading.current_thread() is _worker:
        return fn()
    with _lock:
        if _worker is None:
            old = threading.stack_size(STACK_BYTES)
            try:
                _worker = threading.Thread(target=_serve, name="world-eval", daemon=True)
                _worker.start()
            finally:
                threading.stack_size(old)
    done = threading.Event()
    box: list[Any] = [done]
    _jobs.put((fn, box))
    stop = False
    while True:
        try:
            if done.wait(0.05):
                break
        except KeyboardInterrupt:
            stop = True
        if stop:        # again each time: the evaluation may not have started its meter yet
            interrupt()
    ok, value = box[1]
    if ok:
        return value
    raise value


def interrupt() -> None:
    """Ask the running evaluation to stop: at its next budget check, or through the
    watchdog if it is inside a primitive."""
    m = budget.CURRENT
    while m is not None:
        m.interrupted = True
        m = m.parent
    watchdog.kick()


# ---------------------------------------------------------------- evaluation

class Result:
    """What one evaluation produced: value, steps, output, memory, and the value's text
    when it was asked for (`show`)."""

    __slots__ = ("value", "steps", "output", "memory", "text", "host")

    def __init__(self, value: Any, steps: int, output: str, memory: int,
                 text: str | None = None, host: int = 0) -> None:
        self.value, self.steps, self.output, self.memory = value, steps, output, memory
        self.text = text
        self.host = host        # of `steps`, those the host spent on the program's behalf


def _run_in(env: Any, form: Any, meter: Meter, source: str | None,
            show: Callable[[Any], str] | None = None, shown: list[str] | None = None) -> Any:
    """Compile and run `form` under `meter` on this thread; with `show`, also render the
    value under the same budget and append the text to `shown`."""
    from .compiler import compile_form
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, meter.limits.depth + 200))
    meter.start()
    watch = None
    try:
        try:
            # Armed inside the `try`, so that a stop landing as soon as it is armed is
            # still disarmed and translated; disarmed before any bookkeeping.
            watch = watchdog.arm()
            try:
                thunk = compile_form(env, form, source)
            except (LispError, RecursionError, Stop):
                raise
            except Exception as e:
                raise InternalError(f"compiler failed: {type(e).__name__}: {e}") from e
            value = thunk()
            if type(value) is TailCall:
                value = bounce(value)
            if show is not None and shown is not None:
                shown.append(show(value))       # printing is part of the form's budget
        finally:
            watchdog.disarm(watch)
        return value
    except BaseException as e:
        watchdog.disarm(watch)          # again: a stop may have landed as the first disarm began
        err = translate(e)
        if isinstance(err, LispError) and not err.backtrace:
            memory = isinstance(err, BudgetExceeded) and err.budget == "memory"
            err.frames = lisp_frames(e.__traceback__, 0 if memory else LOCALS_KEPT)
            err.backtrace = [(f.name, f.loc) for f in err.frames]
            if err.loc is None:
                for _, loc in err.backtrace:
                    if loc is not None:
                        err.loc = loc
                        break
            if err.loc is None and type(form) is Pair:
                err.loc = form.loc
            if err.source is None:
                err.source = source
        if type(err) is UnboundVariable and err.candidates is None:
            err.candidates = env.known_names        # "did you mean": only if it is shown
        if isinstance(err, BudgetExceeded) and err.budget == "memory":
            _release(e)
        if err is e:
            raise
        raise err from None
    finally:
        watchdog.disarm(watch)
        try:
            meter.stop()        # may raise: settling charges a parent that is out of budget
        finally:
            sys.setrecursionlimit(old_limit)


def _release(e: BaseException) -> None:
    """Let go of what a program that ran out of memory built: its frames hold it."""
    import gc
    import traceback
    traceback.clear_frames(e.__traceback__)
    e.__traceback__ = None
    gc.collect()


def run(env: Any, form: Any, limits: Limits | None = None, source: str | None = None,
        pause_at: int | None = None, out: list[str] | None = None,
        show: Callable[[Any], str] | None = None) -> Result:
    """Evaluate one top-level form in `env` under `limits` (never more than the environment's
    own); with `show` (e.g. `write`), render the value within the same budget as `Result.text`."""
    if limits is None or limits is env.limits:
        limits = env.limits
    elif env.limits is not DEFAULT_LIMITS:
        limits = env.limits.narrow(**limits.__dict__)
    nested = budget.running() is not None     # called from inside an evaluation
    if nested:
        limits = budget.within(limits)
    meter = Meter(env.ns, limits, out)
    meter.pause_at = pause_at
    shown: list[str] = []
    if nested:
        value = _run_in(env, form, meter, source, show, shown)
    else:
        value = on_big_stack(lambda: _run_in(env, form, meter, source, show, shown))
    return Result(value, meter.base, "".join(meter.out), meter.mem, shown[0] if shown else None,
                  meter.host)


# ---------------------------------------------------------------- pausing

# Paused evaluations are documents, not pickles: see suspend.py.
from .suspend import Suspension, resume, start  # noqa: E402,F401
