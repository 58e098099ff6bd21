"""Agent files: a `.lispy` file that defines `AGENT` and `(run state input)`.

    (define AGENT {:name "counter" :version "1" :caps [:core]
                   :description "Counts what it is sent."})
    (define (run state input) (+ state input))

`AGENT` is a map *literal* (its data is checked before any of the file runs,
so what an agent asks for is known without running it): `:name` (letters,
digits, `.`, `_`, `-`), `:version` (a string or a natural number), `:caps` (a
vector of capability keywords), `:description` (a string) and, optionally,
`:initial-state` (the state of a first run; default `()`).

An agent may ask only for `core`, `output` and `simulate`; asking for any other
group (`image`, `host`, `reflect`, ...) is refused with one line rather than
silently narrowed, so an author learns at once that the agent cannot have it.
Each run loads the file into a FRESH environment granted `:caps` ∩ what the
caller allows, under one budget shared by loading and running; the loaded
globals are then sealed, so `run` cannot redefine itself or anything else.
What goes in and comes out is data: the new state must print and read back
equal, and is stored as that canonical text (world/peer/agentstate.py).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Any, Iterable

from ..lisp.budget import Limits, Meter
from ..lisp.env import Environment
from ..lisp.errors import BudgetExceeded, LispError, ReadError, SandboxError, UnboundVariable
from ..lisp.printer import write
from ..lisp.reader import read_spans
from ..lisp.runtime import on_big_stack, run
from ..lisp.types import (Box, Closure, Keyword, LispMap, Pair, Primitive, Procedure, Record,
                          Symbol, equal, make_list)

MAX_FILE = 1 << 20              # bytes of an agent file
MAX_STATE = 1 << 20             # characters of a state's canonical text (and of an input)
GRANTABLE = ("core", "output", "simulate")
AGENT_LIMITS = Limits(steps=1_000_000, memory=64 * 1024 * 1024, seconds=10.0, output=100_000)
UNMETERED = Limits(steps=1 << 62, memory=1 << 62, seconds=1e9, output=1 << 62)
KEYS = ("name", "version", "caps", "description")
OPTIONAL = ("initial-state",)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")

DEFINE, QUOTE = Symbol("define"), Symbol("quote")
AGENT_SYM, RUN_SYM = Symbol("AGENT"), Symbol("run")


class AgentFileError(LispError):
    """An agent file, its AGENT map, a state or an input that is not what an agent needs."""

    kind = "agent"


@dataclass(frozen=True)
class Spec:
    """What an agent file declares in its AGENT map."""

    name: str
    version: str
    caps: frozenset[str]
    description: str
    initial: Any = None


@dataclass
class Outcome:
    """One run: the new state and its canonical text, output, steps, and the grant it ran under."""

    state: Any
    text: str
    output: str
    steps: int
    caps: frozenset[str]


# ---------------------------------------------------------------- reading

def read_text(path: str, what: str = "agent file", limit: int = MAX_FILE) -> str:
    """The UTF-8 text of `path`, at most `limit` bytes; AgentFileError otherwise."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise AgentFileError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if len(data) > limit:
        raise AgentFileError(f"{what} {path} is larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AgentFileError(f"{what} {path} is not UTF-8 text (byte {e.start})") from None


def read_datum(text: str, source: str, what: str) -> Any:
    """The one datum in `text` (an input or a state); AgentFileError naming `source` otherwise."""
    if len(text) > MAX_STATE:
        raise AgentFileError(f"{what} {source} is larger than {MAX_STATE} characters")
    try:
        spans = read_spans(text, source)
    except ReadError as e:
        raise AgentFileError(f"{what} does not read: {e.kind}: {e.message}", e.loc,
                             e.source) from None
    if len(spans) != 1:
        raise AgentFileError(f"{what} {source} must be exactly one datum, not {len(spans)}")
    return spans[0][0]


def _loc(text: str, form: Any, start: int) -> tuple[int, int]:
    loc = getattr(form, "loc", None) if type(form) is Pair else None
    return loc or (text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start))


class AgentFile:
    """A parsed agent file: its forms and its checked AGENT map (nothing of it has run)."""

    def __init__(self, path: str, text: str | None = None) -> None:
        self.path = path
        self.text = read_text(path) if text is None else text
        spans = read_spans(self.text, path)     # a ReadError names the file, line and column
        self.forms = [(form, _loc(self.text, form, a)) for form, a, _ in spans]
        self.spec = self._spec()

    def error(self, message: str, loc: tuple[int, int] | None = None) -> AgentFileError:
        """An AgentFileError at `loc` in this file."""
        return AgentFileError(message, loc, self.path)

    def _spec(self) -> Spec:
        found = [(form, loc) for form, loc in self.forms if _defines(form, AGENT_SYM)]
        if not found:
            raise self.error("defines no AGENT: the file needs (define AGENT {:name \"...\" "
                             ":version \"1\" :caps [:core] :description \"...\"})", (1, 1))
        if len(found) > 1:
            first = found[0][1]
            raise self.error(f"AGENT is defined twice (first at {first[0]}:{first[1]})",
                             found[1][1])
        form, loc = found[0]
        value = form.cdr.cdr.car if type(form.cdr.cdr) is Pair else None
        if type(form.cdr.car) is not Symbol or type(form.cdr.cdr) is not Pair \
                or form.cdr.cdr.cdr is not None or type(value) is not LispMap:
            raise self.error("AGENT must be a map literal: (define AGENT {:name \"...\" "
                             ":version \"1\" :caps [:core] :description \"...\"})", loc)
        return spec_of(value, lambda m: self.error(m, loc))


def _defines(form: Any, sym: Symbol) -> bool:
    """Whether top-level `form` is `(define sym ...)` or `(define (sym ...) ...)`."""
    if type(form) is not Pair or form.car is not DEFINE or type(form.cdr) is not Pair:
        return False
    target = form.cdr.car
    return target is sym or (type(target) is Pair and target.car is sym)


def spec_of(m: LispMap, error: Any) -> Spec:
    """The Spec an AGENT map declares; `error(message)` makes the error for a bad one."""
    got = {}
    for k, v in m.items():
        if type(k) is not Keyword or k.name not in KEYS + OPTIONAL:
            raise error(f"AGENT has an unknown key {write(k, 60)} (its keys are "
                        f":{' :'.join(KEYS + OPTIONAL)})")
        got[k.name] = v
    for key in KEYS:
        if key not in got:
            raise error(f"AGENT has no :{key}")
    name, version, caps, doc = (got[k] for k in KEYS)
    if type(name) is not str or not NAME.match(name):
        raise error("AGENT :name must be a string of 1 to 64 letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit")
    if type(version) is int and version >= 0:
        version = str(version)
    if type(version) is not str or not 0 < len(version) <= 64:
        raise error("AGENT :version must be a string of 1 to 64 characters or a natural number")
    if type(doc) is not str or len(doc) > 4000:
        raise error("AGENT :description must be a string of at most 4000 characters")
    initial = got.get("initial-state")
    if initial is not None:
        check_data(initial, "AGENT :initial-state", error)
    return Spec(name, version, caps_of(caps, error), doc, initial)


def caps_of(x: Any, error: Any) -> frozenset[str]:
    """The capability names in an AGENT's `:caps` vector, refused if not grantable to an agent."""
    from ..lisp.primitives import CAPABILITIES
    items = list(x) if type(x) is tuple else None
    if items is None or any(type(c) is not Keyword for c in items):
        raise error("AGENT :caps must be a vector of keywords such as [:core :output]")
    allowed = " ".join(":" + c for c in GRANTABLE)
    for c in items:
        if c.name not in CAPABILITIES:
            raise error(f"AGENT :caps names :{c.name}, which is not a capability group "
                        f"(an agent may ask for {allowed})")
        if c.name not in GRANTABLE:
            raise error(f"AGENT :caps asks for :{c.name}, which an agent file is never granted "
                        f"(an agent may ask for {allowed})")
    return frozenset(c.name for c in items)


def allowed_caps(text: str) -> frozenset[str]:
    """What a caller's `--caps a,b` allows; ValueError with one line if it names others."""
    names = {c.strip().lstrip(":") for c in text.split(",") if c.strip()}
    bad = sorted(names - set(GRANTABLE))
    if bad:
        raise ValueError(f"--caps: an agent may be allowed only {', '.join(GRANTABLE)}, "
                         f"not {', '.join(bad)}")
    return frozenset(names)


# ---------------------------------------------------------------- data

def check_data(value: Any, what: str, error: Any = None) -> str:
    """The canonical text of `value`, refused unless it is data that reads back equal."""
    make = error or (lambda m: AgentFileError(m))
    _no_procedures(value, what, make)
    text = write(value)
    return data_text(value, text, what, make)


def data_text(value: Any, text: str, what: str, make: Any = None) -> str:
    """`text` (the printed `value`) if it is small enough and reads back equal to `value`."""
    from ..lisp.reader import read
    make = make or (lambda m: AgentFileError(m))
    if len(text) > MAX_STATE:
        raise make(f"{what} is {len(text)} characters of text, more than the {MAX_STATE} "
                   f"an agent's state may hold")
    try:
        back = read(text)
    except ReadError as e:
        at = text.find("#<")
        bit = text[at:at + 40] if at >= 0 else text[:40]
        raise make(f"{what} is not data that reads back ({e.message}, near {bit}); an agent's "
                   f"state holds numbers, strings, symbols, keywords, lists, vectors and maps") \
            from None
    if not equal(back, value):
        raise make(f"{what} does not read back equal from its printed text; an agent's state "
                   f"holds numbers, strings, symbols, keywords, lists, vectors and maps")
    return text


def _no_procedures(x: Any, what: str, make: Any) -> None:
    """Refuse `x` if it holds a procedure, a box or a record (each node visited once)."""
    todo, seen = [x], set()
    while todo:
        v = todo.pop()
        t = type(v)
        if t in (Pair, tuple, LispMap):
            if id(v) in seen:
                continue
            seen.add(id(v))
            if t is Pair:
                todo += (v.car, v.cdr)
            elif t is tuple:
                todo.extend(v)
            else:
                for k, w in v.items():
                    todo += (k, w)
        elif isinstance(v, Procedure):
            raise make(f"{what} holds a procedure; an agent's state must be data")
        elif t is Box or t is Record:
            raise make(f"{what} holds a {'box' if t is Box else 'record'}; an agent's state "
                       f"must be data that prints and reads back")


# ---------------------------------------------------------------- running

class Agent:
    """An agent file ready to run under a caller's grant."""

    def __init__(self, path: str, allowed: Iterable[str] = ("core",),
                 limits: Limits = AGENT_LIMITS, text: str | None = None) -> None:
        self.file = AgentFile(path, text)
        self.spec = self.file.spec
        self.path = path
        self.allowed = frozenset(allowed)
        self.caps = self.spec.caps & self.allowed & frozenset(GRANTABLE)
        self.limits = limits

    def grant(self, caps: Iterable[str] | None = None) -> frozenset[str]:
        """The capabilities a run gets: the agent's, the caller's and `caps` (a peer's grant)."""
        return self.caps if caps is None else self.caps & frozenset(caps)

    def check(self) -> None:
        """Load the file into a fresh sandbox and check its `run`, without running it."""
        self.step(None, None, call=False)

    def step(self, state: Any, input: Any, caps: Iterable[str] | None = None,
             limits: Limits | None = None, call: bool = True) -> Outcome:
        """Load the file into a fresh sandbox and return what `(run state input)` makes; a
        failure carries the steps it used as `agent_steps`."""
        granted = self.grant(caps)
        lim = self.limits if limits is None else self.limits.narrow(**limits.__dict__)
        check_data(input, "the input")

        def work() -> Outcome:
            # An outer meter that never runs out: each form's meter settles into it, so the
            # steps are known even when the run fails.
            outer = Meter({"_n": 0}, UNMETERED)
            outer.start()
            try:
                return self._step(state, input, granted, lim, call)
            except LispError as e:
                outer.sync()
                e.agent_steps = outer.base      # type: ignore[attr-defined]
                raise
            finally:
                outer.stop()
        return on_big_stack(work)

    def _step(self, state: Any, input: Any, granted: frozenset[str], lim: Limits,
              call: bool = True) -> Outcome:
        env = Environment(granted, lim)
        watch = _Watch(self.file, env)
        env.hooks.append(watch)
        out: list[str] = []
        spent, started = 0, time.monotonic()
        try:
            for form, loc in self.file.forms:
                watch.at = loc
                r = run(env, form, _left(lim, spent, started, out), self.path, out=out)
                spent += r.steps
            watch.check_run()
            if not call:
                return Outcome(None, "()", "".join(out), spent, granted)
            watch.at = watch.run_at
            env.sealed = True       # globals are fixed now: `run` cannot redefine anything
            form = make_list([RUN_SYM, make_list([QUOTE, state]), make_list([QUOTE, input])])
            r = run(env, form, _left(lim, spent, started, out), self.path, out=out, show=write)
            spent += r.steps
        except UnboundVariable as e:
            raise self._ungranted(e, granted) from None
        except LispError as e:
            if isinstance(e, BudgetExceeded) and e.budget == "steps":
                # the remainder ran out: say the agent's whole budget
                e.message = f"step budget of {lim.steps} exhausted (loading and running the agent)"
            if e.loc is None:           # no Lisp frame said where: the form loading, or run
                e.loc, e.source = watch.at, self.path
            raise
        value, text = r.value, r.text or ""
        at = lambda m: self.file.error(m, watch.run_at)  # noqa: E731
        _no_procedures(value, "the state run returned", at)
        data_text(value, text, "the state run returned", at)
        return Outcome(value, text, "".join(out), spent, granted)

    def _ungranted(self, e: UnboundVariable, granted: frozenset[str]) -> LispError:
        """An unbound name that is a primitive this run was not granted, said so."""
        from ..lisp.primitives import GROUPS
        name = e.name()
        groups = sorted(g for g, names in GROUPS.items() if name in names and g != "internal")
        if not groups or name not in Primitive.registry:
            return e
        have = " ".join(":" + c for c in sorted(granted)) or "nothing"
        need = groups[0]
        why = (f"add :{need} to AGENT :caps and allow it with --caps" if need in GRANTABLE
               else "an agent file is never granted it")
        err = SandboxError(f"{name} needs the :{need} capability; this run was granted [{have}] "
                           f"({why})", e.loc, e.source)
        err.backtrace = e.backtrace
        return err


def _left(lim: Limits, spent: int, started: float, out: list[str]) -> Limits:
    """What is left of `lim` after `spent` steps, the time since `started` and `out`."""
    return replace(lim, steps=max(0, lim.steps - spent),
                   seconds=max(0.0, lim.seconds - (time.monotonic() - started)),
                   output=max(0, lim.output - sum(map(len, out))))


class _Watch:
    """The define hook of an agent's sandbox: AGENT and `run` are each defined once, as the
    file's own top-level forms say, and never `set!`."""

    def __init__(self, file: AgentFile, env: Environment) -> None:
        self.file, self.env = file, env
        self.at: tuple[int, int] | None = None
        self.run_at: tuple[int, int] | None = None     # where `run` is defined
        self.count = {AGENT_SYM: 0, RUN_SYM: 0}

    def __call__(self, sym: Symbol, value: Any, form: Any, kind: str, doc: Any) -> None:
        if sym not in self.count:
            return
        if kind == "set!":
            raise self.file.error(f"{sym.name} cannot be changed with set! in an agent file", self.at)
        if kind == "defmacro":
            raise self.file.error(f"{sym.name} must be defined as a "
                                  f"{'map' if sym is AGENT_SYM else 'procedure'}, not a macro", self.at)
        self.count[sym] += 1
        if sym is RUN_SYM:
            self.run_at = self.at
        if self.count[sym] > 1:
            raise self.file.error(f"{sym.name} is defined more than once; an agent file defines "
                                  f"it once", self.at)

    def check_run(self) -> Any:
        """The `run` procedure, refused if missing or if it cannot take (state input)."""
        if not self.env.is_bound(RUN_SYM) or self.count[RUN_SYM] == 0:
            raise self.file.error("defines no run procedure: the file needs "
                                  "(define (run state input) ...) returning the new state", (1, 1))
        proc = self.env.lookup(RUN_SYM)
        if type(proc) is Primitive:
            return proc
        if type(proc) is not Closure:
            raise self.file.error(f"run must be a procedure of (state input), not "
                                  f"{write(proc, 60)}", self.at)
        lo, hi = arity(proc)
        if not lo <= 2 <= (hi if hi is not None else 2):
            said = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
            said += " argument" if said == "1" else " arguments"
            raise self.file.error(f"run takes {said}; it must take 2: (run state input)",
                                  _form_loc(proc))
        return proc


def arity(proc: Closure) -> tuple[int, int | None]:
    """(fewest, most) arguments a closure takes; (0, None) when its form does not say."""
    form = proc.tmpl.form
    if type(form) is not Pair or type(form.cdr) is not Pair:
        return 0, None
    params, n = form.cdr.car, 0
    while type(params) is Pair:
        n += 1
        params = params.cdr
    if params is None:
        return n, n
    return (n, None) if type(params) is Symbol else (0, None)


def _form_loc(proc: Closure) -> tuple[int, int] | None:
    form = proc.tmpl.form
    return getattr(form, "loc", None) if type(form) is Pair else None


def abridged(value: Any, limit: int = 120) -> str:
    """`value`'s text cut to about `limit` characters, for a run's record."""
    return write(value, limit)


__all__ = ["AGENT_LIMITS", "Agent", "AgentFile", "AgentFileError", "GRANTABLE", "MAX_FILE",
           "MAX_STATE", "Outcome", "Spec", "abridged", "allowed_caps", "check_data",
           "read_datum", "read_text", "spec_of"]
