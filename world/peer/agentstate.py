"""Agents' state kept in a world: one record per agent name, with its recent runs.

The records hang off the ZODB root under `agents` (name -> AgentRecord), beside
the world root, as evolution's records do. A state is stored as its canonical
text, never pickled Lisp objects: it crosses a trust boundary (a file, a peer)
and is read back as data on the next run. A run is one transaction: load the
stored state, run the agent, store the new state and the run's record; a run
that fails changes no state, and its record is written in a transaction of its
own. Two processes running the same agent at once conflict, and the later one
runs again from the state the other stored (`World._change` retries).
"""
from __future__ import annotations

import time
from typing import Any, Callable

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree

from ..lisp.errors import LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Keyword, LispMap, make_list
from ..objects.format import Versioned
from ..objects.image import iso
from .agentfile import Agent, AgentFileError, Outcome, abridged, check_data

AGENTS_KEY = "agents"
RUNS_KEPT = 50          # runs an agent's record keeps, newest first out
OUTCOME_TEXT = 300      # characters of a failed run's error line kept


class AgentRecord(Versioned):
    """One agent's stored state (canonical text) and its most recent runs."""

    format_version = 1
    name = ""
    version = ""
    description = ""
    state: str | None = None        # None: no run has stored one yet
    runs_count = 0
    created = 0.0
    updated = 0.0

    def __init__(self, name: str) -> None:
        self.name = name
        self.created = self.updated = time.time()
        self.runs = IOBTree()       # seq -> (time, input text, ok, outcome, steps, version)

    def record(self, input_text: str, ok: bool, outcome: str, steps: int, version: str) -> int:
        """Append a run's record (dropping the oldest past RUNS_KEPT); its sequence number."""
        self.runs_count += 1
        self.runs[self.runs_count] = (time.time(), input_text, ok, outcome, steps, version)
        while len(self.runs) > RUNS_KEPT:
            del self.runs[self.runs.minKey()]
        return self.runs_count


def agents(world: Any, create: bool = False) -> Any:
    """The world's agent records (name -> AgentRecord), created (uncommitted) if asked."""
    zroot = world.image.conn.root()
    found = zroot.get(AGENTS_KEY)
    if found is None and create:
        found = zroot[AGENTS_KEY] = OOBTree()
    return found


def stored_state(record: AgentRecord | None, agent: Agent) -> Any:
    """The state a run starts from: the stored one, else the agent's :initial-state."""
    if record is None or record.state is None:
        return agent.spec.initial
    try:
        return read(record.state)
    except LispError as e:      # altered in the image: say so rather than run on garbage
        raise AgentFileError(f"the stored state of agent {record.name} does not read ({e}); "
                             f"replace it with --state FILE") from None


def run_agent(world: Any, agent: Agent, input: Any, *, state: Any = None, replace: bool = False,
              caps: Any = None, limits: Any = None,
              before: Callable[[], None] | None = None) -> Outcome:
    """Run `agent` once on its stored state (or on `state` when `replace`) in `world`, one
    transaction; store the new state and record the run. A failed run records only that."""
    name = agent.spec.name
    input_text = abridged(input)
    if replace:
        check_data(state, "the state")

    def work() -> Outcome:
        if before is not None:
            before()
        tree = agents(world, create=True)
        record = tree.get(name)
        start = state if replace else stored_state(record, agent)
        outcome = agent.step(start, input, caps, limits)
        if record is None:
            record = tree[name] = AgentRecord(name)
        record.version, record.description = agent.spec.version, agent.spec.description
        record.state = outcome.text
        record.updated = time.time()
        record.record(input_text, True, "ok", outcome.steps, agent.spec.version)
        return outcome

    try:
        return world._change(work, f"agent: run {name}")
    except LispError as e:
        _record_failure(world, agent, input_text, e)
        raise


def endpoint(world: Any, signer: Any, agent: Agent) -> Any:
    """A peer endpoint (world/peer/endpoint.py) whose program is `agent`: a request's body
    is the INPUT datum (not evaluated); the agent runs on its stored state under the
    narrower of the sender's grant and the AGENT's caps, and the reply is the new state.
    Runs hold the endpoint's lock, so one agent's runs are one after another."""
    from .endpoint import Endpoint

    def program(form: Any, grant: Any) -> Any:
        with made.lock:         # the world's one connection, and one run at a time
            try:
                outcome = run_agent(world, agent, form, caps=grant.caps, limits=grant.limits)
            except LispError as e:
                grant.usage.steps = getattr(e, "agent_steps", 0)
                raise
        grant.usage.steps, grant.usage.output = outcome.steps, outcome.output
        return outcome.state

    made = Endpoint(world, signer, program=program)
    return made


def _record_failure(world: Any, agent: Agent, input_text: str, e: LispError) -> None:
    """Record a failed run (its state untouched); a failure to record it is not the run's error."""
    name = agent.spec.name
    line = " ".join(str(e).split())[:OUTCOME_TEXT]

    def work() -> None:
        tree = agents(world, create=True)
        record = tree.get(name)
        if record is None:
            record = tree[name] = AgentRecord(name)
            record.version, record.description = agent.spec.version, agent.spec.description
        record.record(input_text, False, line, getattr(e, "agent_steps", 0), agent.spec.version)

    try:
        world._change(work, f"agent: failed run of {name}")
    except (LispError, OSError):
        pass


def show(world: Any, name: str, recent: int = 10) -> LispMap:
    """An agent's record as a map: name, version, description, state (#f before any is
    stored), runs and recent runs."""
    tree = agents(world)
    record = None if tree is None else tree.get(name)
    if record is None:
        known = sorted(tree.keys()) if tree is not None else []
        also = f" (agents here: {', '.join(known[:20])})" if known else " (none has run here yet)"
        raise AgentFileError(f"no agent named {name} has run in this world{also}")
    try:
        state = False if record.state is None else read(record.state)
    except LispError:
        state = record.state
    runs = []
    for seq in reversed(list(record.runs.keys())[-recent:] if recent > 0 else []):
        when, text, ok, outcome, steps, version = record.runs[seq]
        runs.append(_kw({"seq": seq, "time": iso(when), "input": text,
                         "outcome": Keyword("ok") if ok else outcome, "steps": steps,
                         "version": version}))
    return _kw({"name": record.name, "version": record.version,
                "description": record.description, "state": state,
                "runs": record.runs_count, "created": iso(record.created),
                "updated": iso(record.updated), "recent": make_list(runs)})


def inspect_agents(world: Any, recent: int = 5) -> LispMap:
    """`(inspect :agents)`: every agent that has run in `world`, its state and newest runs."""
    found = names(world)
    return _kw({"count": len(found), "agents": make_list([show(world, n, recent) for n in found])})


def names(world: Any) -> list[str]:
    """The names of the agents that have run in `world`."""
    tree = agents(world)
    return [] if tree is None else list(tree.keys())


def _kw(d: dict[str, Any]) -> LispMap:
    """A map with keyword keys; the host's facts (times) only for code granted `host`."""
    from ..objects.prims import host_facts
    kept = host_facts(d)
    if "created" in d and "created" not in kept:
        kept.pop("updated", None)
    return LispMap((Keyword(k), v) for k, v in kept.items())


def show_text(view: LispMap) -> str:
    """An agent's record as lines of text (for `world agent show`)."""
    g = lambda k: view.get(Keyword(k))     # noqa: E731
    lines = [f"agent {g('name')} version {g('version')}: {g('description')}",
             f"state: {write(g('state'))}",
             f"runs: {g('runs')} (created {g('created')}, last stored {g('updated')})"]
    x = g("recent")
    while x is not None:
        r = x.car
        outcome = r.get(Keyword("outcome"))
        said = "ok" if outcome == Keyword("ok") else f"failed: {outcome}"
        lines.append(f"  #{r.get(Keyword('seq'))} {r.get(Keyword('time'))} input "
                     f"{r.get(Keyword('input'))} -> {said} ({r.get(Keyword('steps'))} steps)")
        x = x.cdr
    return "\n".join(lines) + "\n"
