"""The watchdog: wall time, Ctrl-C and process memory, enforced inside any primitive.

The step counter looks at the clock and the interrupt flag only between
chunks of compiled code, so a primitive that loops in Python (printing a
shared structure, `equal?`, `sort`) would run past both. One watchdog thread
per process, started with the first evaluation, watches the evaluation that
is running: when its deadline (the earliest over the chain of nested
meters) has passed, when it was interrupted, or when the process has grown
far beyond its memory limit, it raises `Stop` asynchronously in the
evaluation thread (`PyThreadState_SetAsyncExc`), which lands at the next
Python bytecode boundary. The runtime translates `Stop` into the right
`BudgetExceeded` or `Interrupted`. A single long C call (one huge `pow`) is
not interruptible; those are bounded by size limits before they start.

The watch covers only the span between `arm` and `disarm` on the
evaluation thread, never the host's own bookkeeping around it (settling the
meter, committing), and `disarm` cancels a stop that was raised but had not
landed yet. Code inside an evaluation that must not be cut in the middle
(a commit made by a primitive) runs in `shielded()`.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
from typing import Iterator

from . import budget
from .errors import BudgetExceeded, Interrupted, LispError

POLL = 0.025            # seconds between looks while an evaluation runs
GRACE = 0.02            # past the deadline, the step counter's own check goes first
REFIRE = 0.25           # a stop that has not ended the evaluation is raised again
MEMORY_FACTOR = 1.5     # the process may grow to this many times the memory limit...
MEMORY_FLOOR = 256 << 20    # ...and at least this much, over its size when the evaluation began


class Stop(BaseException):
    """Raised in the evaluation thread by the watchdog; never caught by `guard`.

    A `BaseException`, so that no `except Exception` in a primitive swallows
    it; the runtime turns it into the error the meter's state calls for.
    """


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss() -> int | None:
    """The resident size of this process in bytes (None where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class Watch:
    """One watched evaluation: its thread and the process size when it began."""

    __slots__ = ("ident", "rss0", "fired_at", "shield")

    def __init__(self, ident: int, rss0: int | None) -> None:
        self.ident = ident
        self.rss0 = rss0
        self.fired_at: float | None = None  # when a stop was last raised
        self.shield = 0                     # depth of `shielded()` blocks running now


_target: Watch | None = None        # the evaluation being watched
_firing: Watch | None = None        # set by the watchdog around its check-and-raise
_wake = threading.Condition()
_thread: threading.Thread | None = None
_kicked = False                     # an interrupt asked for a look now
_start_lock = threading.Lock()
last_reason: str | None = None      # why the last stop was raised, for the translation


# ---------------------------------------------------------------- evaluation side

def arm() -> Watch | None:
    """Watch the evaluation the calling thread is starting; None if one is watched already
    (a nested evaluation: the outer watch covers it, with the deadlines of the whole chain)."""
    global _target
    if _target is not None:
        return None
    if _thread is None:
        _start()
    w = Watch(threading.get_ident(), rss())
    _target = w
    with _wake:
        _wake.notify()
    return w


def disarm(w: Watch | None) -> None:
    """Stop watching `w`, cancelling a stop raised but not yet landed; idempotent."""
    global _target
    if w is None:
        return
    if _target is w:
        _target = None
    while True:
        try:
            # The watchdog sets `_firing` before it looks at `_target`: once `_target` is
            # cleared and `_firing` is not `w`, no stop can be raised for `w` any more.
            while _firing is w:
                time.sleep(0.0005)
            if w.fired_at is not None:
                _set_async_exc(ctypes.c_ulong(w.ident), None)
            return
        except Stop:            # it landed here, while leaving: nothing left to stop
            continue


def _landing_point() -> None:
    """A call where a stop raised just before a shield goes up lands (entering a function)."""


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Run the block without being stopped in its middle (the stop lands after it)."""
    w = _target
    if w is None or w.ident != threading.get_ident():
        yield
        return
    w.shield += 1
    try:
        while _firing is w:
            time.sleep(0.0005)
        _landing_point()
    except BaseException:
        w.shield -= 1
        raise
    try:
        yield
    finally:
        w.shield -= 1


def kick() -> None:
    """Look at the watched evaluation now (after an interrupt), not at the next poll."""
    global _kicked
    if _thread is not None:
        with _wake:
            _kicked = True
            _wake.notify()


def error_for(meter: budget.Meter | None) -> LispError:
    """The error a landed `Stop` stands for, from the state of the running meters."""
    m = meter
    deadline, seconds = float("inf"), None
    while m is not None:
        if m.interrupted:
            return Interrupted()
        if m.deadline < deadline:
            deadline, seconds = m.deadline, m.limits.seconds
        m = m.parent
    if last_reason == "memory":
        return memory_error(meter)
    if seconds is None:
        seconds = meter.limits.seconds if meter is not None else 0.0
    return BudgetExceeded("time", f"time budget of {seconds:g} s exhausted")


def memory_error(meter: budget.Meter | None) -> BudgetExceeded:
    """The backstop's error, for the innermost evaluation: a sandbox that grew the process
    fails as its own memory limit would (its garbage is let go), and its caller may go on."""
    limit = meter.limits.memory if meter is not None else budget.DEFAULT_LIMITS.memory
    return BudgetExceeded("memory", f"process memory grew far beyond the memory limit "
                                    f"of {limit} bytes")


# ---------------------------------------------------------------- the watchdog thread

def _start() -> None:
    global _thread
    with _start_lock:
        if _thread is None:
            t = threading.Thread(target=_loop, name="world-watchdog", daemon=True)
            t.start()
            _thread = t


def _loop() -> None:
    global _kicked
    wait = POLL
    while True:
        with _wake:
            if _target is None:
                while _target is None:
                    _wake.wait()
                wait = POLL         # a new evaluation: most end before the first look
            if not _kicked:
                _wake.wait(wait)
            _kicked = False
        w = _target
        if w is not None:
            wait = _look(w)


def _look(w: Watch) -> float:
    """Check the watched evaluation; stop it if it must; the seconds until the next look."""
    now = time.monotonic()
    deadline, memory, interrupted = float("inf"), float("inf"), False
    m = budget.CURRENT
    while m is not None:
        interrupted = interrupted or m.interrupted
        deadline = min(deadline, m.deadline)
        memory = min(memory, m.limits.memory)
        m = m.parent
    reason = None
    if interrupted:
        reason = "interrupt"
    elif now > deadline + GRACE:
        reason = "time"
    elif w.rss0 is not None and memory != float("inf"):
        size = rss()
        if size is not None and size > w.rss0 + max(MEMORY_FACTOR * memory, MEMORY_FLOOR):
            reason = "memory"
    if reason is not None and (w.fired_at is None or now - w.fired_at >= REFIRE):
        _fire(w, reason, now)
    until = deadline + GRACE - now
    return POLL if until <= 0 else max(0.001, min(POLL, until))


def _fire(w: Watch, reason: str, now: float) -> None:
    """Raise `Stop` in `w`'s thread, unless it was disarmed or is shielded meanwhile."""
    global _firing, last_reason
    _firing = w
    try:
        if _target is w and not w.shield:
            last_reason = reason
            w.fired_at = now
            _set_async_exc(ctypes.c_ulong(w.ident), ctypes.py_object(Stop))
    finally:
        _firing = None
