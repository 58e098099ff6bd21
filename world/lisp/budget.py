"""Budgets: every evaluation runs under limits on steps, memory, time,
depth, integer size, string and list sizes, and output.

Steps are counted exactly and deterministically. Compiled code decrements a
counter `_n` kept in its environment's namespace and calls `trap()` when it
goes negative; the counter is handed out in chunks, so the clock and the
interrupt flag are looked at only once per chunk, never on the hot path.
Memory is *accounted*: primitives that allocate charge an estimate of the
bytes they create against a cumulative allowance, so the count is the same on
every run and a cons loop stops long before the host runs short.
"""
from __future__ import annotations

import time
from threading import get_ident
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Iterator

from .errors import BudgetExceeded, Interrupted

CHUNK = 10_000          # steps between looks at the clock and the interrupt flag
HOST_STEPS = 5_000_000  # most steps of host work one `host_work` block may do for a host-free meter
PAIR_BYTES = 64         # accounted size of one cons cell


@dataclass(frozen=True)
class Limits:
    """The resources one evaluation may use."""

    steps: int = 10_000_000
    memory: int = 512 * 1024 * 1024     # accounted bytes, cumulative
    seconds: float = 60.0               # wall clock
    depth: int = 220_000                # nested (non-tail) calls
    int_bits: int = 1_000_000           # size of any integer result
    string: int = 16_000_000            # characters in one string
    length: int = 16_000_000            # elements in one list or vector
    output: int = 4_000_000             # characters written by display/write
    read_depth: int = 1_000             # nesting of forms the reader accepts

    def narrow(self, **asked: Any) -> "Limits":
        """A copy whose limits are at most these (a child cannot widen)."""
        fields = {k: min(v, getattr(self, k)) for k, v in asked.items() if v is not None}
        return replace(self, **fields)


DEFAULT_LIMITS = Limits()


class Meter:
    """The running account of one evaluation."""

    __slots__ = ("ns", "limits", "base", "chunk", "mem", "out", "out_len",
                 "deadline", "interrupted", "parent", "saved_n", "pause_at",
                 "host", "host_free", "extra", "dyn")

    def __init__(self, ns: dict, limits: Limits, out: list[str] | None = None) -> None:
        self.ns = ns
        self.limits = limits
        self.base = 0           # steps consumed before the current chunk
        self.chunk = 0          # size of the current chunk
        self.mem = 0
        self.out = out if out is not None else []
        self.out_len = 0
        self.deadline = time.monotonic() + limits.seconds
        self.interrupted = False
        self.parent: Meter | None = None
        self.saved_n = 0
        self.pause_at: int | None = None
        self.host = 0           # steps of host work done on this evaluation's behalf (`host_work`)
        self.host_free = False  # host work is bounded by HOST_STEPS, not by `limits.steps`
        self.extra = 0          # steps allowed past `limits.steps` while host work runs
        self.dyn: Any = None    # dynamic state (handlers, parameters): world/lisp/dynamic.py

    # -- steps
    def start(self) -> None:
        """Make this meter current and hand out the first chunk."""
        global CURRENT
        self.parent = CURRENT
        if self.parent is not None:
            self.parent.sync()
            self.saved_n = self.ns.get("_n", 0)
        CURRENT = self
        self._refill()

    def stop(self) -> None:
        """Settle this meter and make its parent current again."""
        global CURRENT
        self.sync()
        CURRENT = self.parent
        if self.parent is not None:
            if self.parent.ns is self.ns:
                self.ns["_n"] = self.saved_n
            self.parent.mem += self.mem
            self.parent.charge(self.base)

    def sync(self) -> None:
        """Fold the steps used in the current chunk into `base`."""
        n = self.ns["_n"]
        self.base += self.chunk - n
        self.chunk = n

    @property
    def steps(self) -> int:
        """Steps used so far."""
        return self.base + self.chunk - self.ns["_n"]

    def _refill(self) -> None:
        steps = self.limits.steps + self.extra
        limit = steps if self.pause_at is None else min(steps, self.pause_at)
        self.chunk = max(0, min(CHUNK, limit - self.base))
        self.ns["_n"] = self.chunk

    def trap(self) -> None:
        """Called when the step counter runs out: check every limit, refill."""
        self.sync()
        if self.interrupted:
            raise Interrupted()
        if self.pause_at is not None and self.base > self.pause_at:
            raise Paused(self.pause_at)
        if self.base > self.limits.steps + self.extra:
            if self.extra:
                raise BudgetExceeded("steps", f"host work of more than {HOST_STEPS} steps")
            raise BudgetExceeded("steps", f"step budget of {self.limits.steps} exhausted")
        if time.monotonic() > self.deadline:
            raise BudgetExceeded("time", f"time budget of {self.limits.seconds:g} s exhausted")
        self._refill()

    def charge(self, n: int) -> None:
        """Charge `n` steps of work done by a primitive."""
        ns = self.ns
        ns["_n"] -= n
        if ns["_n"] < 0:
            self.trap()

    # -- memory, sizes, output
    def alloc(self, nbytes: int) -> None:
        self.mem += nbytes
        if self.mem > self.limits.memory:
            raise BudgetExceeded("memory", f"memory budget of {self.limits.memory} bytes exhausted")

    def write(self, text: str) -> None:
        self.out_len += len(text)
        if self.out_len > self.limits.output:
            raise BudgetExceeded("output", f"output budget of {self.limits.output} characters exhausted")
        self.out.append(text)


class Paused(BudgetExceeded):
    """Evaluation reached the step at which it was asked to pause."""

    kind = "paused"

    def __init__(self, step: int) -> None:
        super().__init__("pause", f"paused at step {step}")
        self.step = step


CURRENT: Meter | None = None
EVAL_THREAD = 0     # the evaluation thread's ident (set by the runtime): every meter runs there


def running() -> Meter | None:
    """The meter of the evaluation this thread is running, or None: work another thread
    does (reading or printing for its own session) is never charged to that evaluation."""
    return CURRENT if get_ident() == EVAL_THREAD else None


def current() -> Meter:
    """The meter of the evaluation running now."""
    if CURRENT is None:
        from .errors import InternalError
        raise InternalError("no evaluation is running")
    return CURRENT


def trap() -> None:
    """Entry point for compiled code when its step counter goes negative."""
    current().trap()


def charge(n: int) -> None:
    """Charge `n` steps to the running evaluation (work proportional to input)."""
    m = running()
    if m is not None and n > 0:
        m.charge(n)


def alloc(nbytes: int) -> None:
    """Account `nbytes` of allocation to the running evaluation."""
    m = running()
    if m is not None:
        m.alloc(nbytes)


@contextmanager
def _apart(refund: bool, forget_memory: bool, record: bool) -> Iterator[None]:
    """Run a block of host work on the running meter: with `refund`, under its own
    allowance of HOST_STEPS and then given back; `record` counts it in `meter.host`."""
    m = running()
    if m is None:
        yield
        return
    m.sync()
    start, mem = m.base, m.mem
    if refund:
        m.extra += HOST_STEPS
        m._refill()
    try:
        yield
    finally:
        m.sync()
        if record:
            m.host += m.base - start
        if forget_memory:
            m.mem = mem
        if refund:
            m.base = start
            m.extra -= HOST_STEPS
            m._refill()


@contextmanager
def host_work() -> Iterator[None]:
    """Mark what runs inside as the host's work on the running evaluation's behalf
    (recording a definition's history and audit, validating an evaluator change).

    It is charged like any work and counted in `meter.host`. For a meter that
    scores a program's own work (`host_free`, as evolution's cells are), the
    block runs under its own allowance of HOST_STEPS instead of the program's
    budget, and its steps are then given back, so the score leaves it out.
    """
    m = running()
    with _apart(m is not None and m.host_free, False, True):
        yield


@contextmanager
def uncharged() -> Iterator[None]:
    """Run host work that must not count at all, under its own allowance of HOST_STEPS:
    compiling a procedure loaded from the image (charged when it was first made), so a
    program takes the same steps whether its procedures were compiled in this process
    or loaded from an image another process wrote."""
    with _apart(True, True, False):
        yield


@contextmanager
def remainder(limits: Limits, spent: int, elapsed: float, doing: str) -> Iterator[Meter]:
    """A meter for host work that finishes a form (storing what it defined, converting its
    value): what `limits` leave after `spent` steps and `elapsed` seconds; running out of
    steps or time says what was being done."""
    meter = Meter({"_n": 0}, replace(limits, steps=max(0, limits.steps - spent),
                                     seconds=max(0.0, limits.seconds - elapsed)))
    meter.start()
    try:
        yield meter
    except BudgetExceeded as e:
        if e.budget == "steps":
            e.message = f"step budget of {limits.steps} exhausted while {doing}"
        elif e.budget == "time":
            e.message = f"time budget of {limits.seconds:g} s exhausted while {doing}"
        e.args = (e.message,)
        raise
    finally:
        meter.stop()


def within(limits: Limits) -> Limits:
    """`limits` narrowed to what the running evaluation has left, for a nested one
    (an audit check, a sanity test, a sandbox) that draws on its budget as it runs."""
    m = running()
    if m is None:
        return limits
    m.sync()
    lim = m.limits
    return limits.narrow(steps=max(0, lim.steps + m.extra - m.base), memory=max(0, lim.memory - m.mem),
                         seconds=max(0.0, m.deadline - time.monotonic()),
                         output=max(0, lim.output - m.out_len))


def limits() -> Limits:
    m = running()
    return m.limits if m is not None else DEFAULT_LIMITS


def check_int(x: int) -> int:
    """Refuse integers larger than the integer-size limit."""
    if x.bit_length() > limits().int_bits:
        raise BudgetExceeded("integer", f"integer larger than {limits().int_bits} bits")
    return x


def check_length(n: int, what: str = "list") -> None:
    """Refuse, before building it, a list, vector or string over the size limit."""
    lim = limits()
    cap = lim.string if what == "string" else lim.length
    if n > cap:
        raise BudgetExceeded("string" if what == "string" else "list",
                             f"{what} of {n} elements exceeds the limit of {cap}")
    alloc(n * (2 if what == "string" else PAIR_BYTES))
    charge(n // 64)
