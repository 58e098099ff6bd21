"""The persistent record of evolution: runs, generations, lineages, rounds,
problem attempts, their cells and model turns, and the hall of fame.

All of it hangs off one `EvolveRoot` under the database root key
`world.evolve`, beside the world's own root. Collections are BTrees; counters
that several worker processes bump at once (tokens, cost) are `Length`s,
which resolve their own conflicts. Each lineage owns a `WorldRoot` of its
own: its namespace (my-eval, helpers, natives) is a world inside the world,
opened with `lineage_world`, so its definitions are committed form by form
like any other world's and survive a crash.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

import transaction
from BTrees.IOBTree import IOBTree
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree

from ..objects.format import Versioned
from ..objects.image import Image
from ..objects.root import WorldRoot
from .scratchpad import Scratchpad

EVOLVE_KEY = "world.evolve"
MICRO = 1_000_000           # costs are stored as integer micro-dollars
LINEAGE_TAG = "evolve-lineage"      # transaction extension: whose world it changed
PAD_TAG = "evolve-pad"              # ... and during which attempt (its scratchpad's token)
UNDO_SCAN = 256                     # transactions read back at first when settling a lineage


class Usage(Versioned):
    """Tokens and estimated cost, summed; safe to bump from several processes."""

    # Prompt-cache tokens (written, read); None in a record made before prompt caching,
    # until `ensure_cache` gives it counters.
    cache_write: Length | None = None
    cache_read: Length | None = None

    def __init__(self) -> None:
        self.calls, self.tokens_in, self.tokens_out, self.micro = Length(), Length(), Length(), Length()
        self.cache_write, self.cache_read = Length(), Length()

    def ensure_cache(self) -> None:
        """Give a record made before prompt caching its cache counters (changes it only then)."""
        if self.cache_write is None:
            self.cache_write = Length()
        if self.cache_read is None:
            self.cache_read = Length()

    def add(self, calls: int, tokens_in: int, tokens_out: int, cost: float,
            cache_write: int = 0, cache_read: int = 0) -> None:
        """Count one model reply (of `calls` HTTP attempts)."""
        self.calls.change(calls)
        self.tokens_in.change(tokens_in)
        self.tokens_out.change(tokens_out)
        self.micro.change(round(cost * MICRO))
        if cache_write or cache_read:
            self.ensure_cache()
            self.cache_write.change(cache_write)
            self.cache_read.change(cache_read)

    def cost(self) -> float:
        """The estimated dollars so far."""
        return self.micro() / MICRO

    def as_dict(self) -> dict[str, Any]:
        """The sums as plain data."""
        return {"calls": self.calls(), "tokens_in": self.tokens_in(),
                "tokens_out": self.tokens_out(), "cost": self.micro() / MICRO,
                "cache_write": self.cache_write() if self.cache_write is not None else 0,
                "cache_read": self.cache_read() if self.cache_read is not None else 0}


class EvolveRoot(Versioned):
    """Every run, by id, and the hall of fame."""

    format_version = 1

    def __init__(self) -> None:
        self.runs = OOBTree()           # run id -> Run
        self.hall = OOBTree()           # "run-id/generation" -> HallEntry
        self.last_run = ""


class Run(Versioned):
    """One `world evolve` invocation: its settings and its generations."""

    format_version = 1
    status = "running"          # running, done
    finished = 0.0
    endpoints: tuple[str, ...] = ()     # where its replies came from, in order (a resume may move)
    held_out_of = ""            # the hall entry it evaluates on held-out problems (world/evolve/hall.py)

    def __init__(self, run_id: str, settings: dict[str, Any], agent: str) -> None:
        self.id, self.settings, self.agent = run_id, dict(settings), agent
        self.created = time.time()
        self.generations = IOBTree()    # number -> Generation
        self.usage = Usage()

    def ordered(self) -> list["Generation"]:
        """The generations, first to last."""
        return list(self.generations.values())


class Generation(Versioned):
    """M lineages started from one seed evaluator; the winner seeds the next."""

    format_version = 1
    winner = -1
    status = "running"
    problems: dict[int, tuple[int, ...]] = {}      # round -> problem ids, set once
    seed_package: dict[str, Any] | None = None      # the seed whole (world/evolve/package.py)
    islands: tuple[dict[str, Any], ...] = ()        # per island: its seed, whence, migrated?

    def __init__(self, number: int, seed: str, seed_from: str,
                 package: dict[str, Any] | None = None) -> None:
        self.number, self.seed, self.seed_from = number, seed, seed_from
        self.seed_package = package
        self.lineages = IOBTree()       # index -> Lineage


class Lineage(Versioned):
    """One competitor: its own namespace and evaluator, rounds, fitness."""

    format_version = 1
    status = "pending"          # pending, running, done
    fitness: dict[str, float] | None = None
    evaluator = ""              # my-eval's source when the lineage last finished an attempt
    natives = 0
    base: tuple[str, ...] | None = None     # the names the seed evaluator defines
    owner = ""                  # the worker process running it ("" when none)
    failure = ""                # why it was stopped (an evaluator that cannot be read), if it was
    seed_package: dict[str, Any] | None = None      # its seed whole (world/evolve/package.py)
    package: dict[str, Any] | None = None           # its evaluator whole, when it finished
    island = 0                  # which island (population) it belongs to
    novel: tuple[str, ...] = ()     # constructs it handles that the original seed does not

    def __init__(self, run_id: str, generation: int, index: int, seed: str,
                 package: dict[str, Any] | None = None, island: int = 0) -> None:
        self.run_id, self.generation, self.index, self.seed = run_id, generation, index, seed
        self.seed_package, self.island = package, island
        self.name = f"g{generation}-L{index}"
        self.root = WorldRoot()
        self.rounds = IOBTree()         # number -> Round
        self.constructs = OOBTree()     # special-form name -> where it was added
        self.usage = Usage()

    def ordered(self) -> list["Round"]:
        return list(self.rounds.values())

    def attempts(self) -> Iterator["Attempt"]:
        """Every problem attempt of every round, in order."""
        for r in self.rounds.values():
            yield from r.attempts.values()


class Round(Versioned):
    """One round: its budget, native cap, problems, attempts and reflection."""

    format_version = 1
    status = "running"
    reflection: "Attempt | None" = None
    bonus = 0                   # steps per problem earned in the previous reflection

    def __init__(self, number: int, budget: int, native_cap: int | None,
                 problems: tuple[int, ...]) -> None:
        self.number, self.budget, self.native_cap, self.problems = number, budget, native_cap, problems
        self.attempts = IOBTree()       # position in `problems` -> Attempt


class Attempt(Versioned):
    """One problem attempt (or one reflection phase): its scratchpad, turns, outcome."""

    format_version = 1
    status = "running"          # running, solved, failed, done (reflection)
    solved = False
    steps = 0
    finished = 0.0
    why = ""                    # how it ended: solved, budget, cells, turns, model error
    changes = 0                 # successful evaluator changes during the attempt
    bonus = 0                   # steps granted for them

    def __init__(self, problem: int, name: str, category: str, budget: int,
                 pad: Scratchpad) -> None:
        self.problem, self.name, self.category, self.budget = problem, name, category, budget
        self.started = time.time()
        self.pad = pad                  # the cells (world/evolve/scratchpad.py)
        self.turns = IOBTree()          # number -> Turn
        self.usage = Usage()

    @property
    def cells(self) -> Any:
        """The scratchpad's cells, by number."""
        return self.pad.cells


class Turn(Versioned):
    """One prompt and the reply to it, with every API attempt it took."""

    format_version = 1

    def __init__(self, number: int, prompt: str, reply: str, model: str,
                 calls: tuple[dict[str, Any], ...], notes: str) -> None:
        self.number, self.prompt, self.reply, self.model = number, prompt, reply, model
        self.calls, self.notes = calls, notes
        self.tokens_in = sum(c.get("tokens_in", 0) for c in calls)
        self.tokens_out = sum(c.get("tokens_out", 0) for c in calls)
        self.cost = sum(c.get("cost", 0.0) for c in calls)


class HallEntry(Versioned):
    """A generation's winner: its evaluator (my-eval's source, and `package`: my-eval with
    the helpers and natives it uses, None in entries made before packages) and fitness."""

    format_version = 1
    package: dict[str, Any] | None = None
    held_out: tuple[dict[str, Any], ...] = ()      # its held-out evaluations (world/evolve/hall.py)

    def __init__(self, run_id: str, generation: int, lineage: str, evaluator: str,
                 fitness: dict[str, float], package: dict[str, Any] | None = None) -> None:
        self.run_id, self.generation, self.lineage = run_id, generation, lineage
        self.evaluator, self.fitness, self.package = evaluator, dict(fitness), package
        self.time = time.time()


def evolve_root(image: Image, create: bool = True) -> EvolveRoot | None:
    """The evolution record of the world in `image` (created, uncommitted, if asked)."""
    zroot = image.conn.root()
    found = zroot.get(EVOLVE_KEY)
    if found is None and create:
        found = zroot[EVOLVE_KEY] = EvolveRoot()
    return found


class LineageImage(Image):
    """The parent image's database, through a connection of its own, rooted at a lineage's root.

    Every transaction it commits is tagged with the lineage (`LINEAGE_TAG`) and, while an
    attempt's cells run, with that attempt's scratchpad (`PAD_TAG`), so that `settle` can
    find and undo the work of an attempt a crash left unfinished."""

    def __init__(self, parent: Image, root_oid: bytes, name: str, key: str = "") -> None:
        self.__dict__.update(parent.__dict__)       # the parent opened the db
        self.tm = transaction.TransactionManager()
        self.conn = parent.db.open(self.tm)
        self.tm.begin()
        self.root = self.conn.get(root_oid)
        self.where = f"{parent.where}#{name}"
        self.key = key
        self.pad_token = ""         # set by a Workspace while its cells run

    def commit(self, note: str, names: Any = ()) -> None:
        """Commit, tagged with the lineage and the running attempt's scratchpad."""
        txn = self.tm.get()
        if self.key:
            txn.setExtendedInfo(LINEAGE_TAG, self.key)
        if self.pad_token:
            txn.setExtendedInfo(PAD_TAG, self.pad_token)
        super().commit(note, names)

    def close(self) -> None:
        """Close this connection; the parent keeps the database open."""
        self.tm.abort()
        self.conn.close()


def lineage_key(lineage: Lineage) -> str:
    """The tag of a lineage's own transactions: run id and lineage name."""
    return f"{lineage.run_id}/{lineage.name}"


def lineage_world(image: Image, lineage: Lineage, limits: Any = None) -> Any:
    """A `World` whose namespace is `lineage`'s own (the lineage must be committed), granted
    only what model replies may use: no image, host, audit, evaluation mode or ground
    evaluation (`eval`, `sandbox`); its `eval` is my-eval's (`my-eval/eval`).

    Every stored definition is bound at once: my-eval looks globals up by name at run
    time, so a helper committed before a restart must be bound before a cell needs it."""
    from ..lisp.budget import DEFAULT_LIMITS
    from ..lisp.primitives import LINEAGE
    from .ground import GUARD_REASON, evaluator_names
    from ..lisp.types import Primitive, Symbol
    from ..session import World
    sub = LineageImage(image, lineage.root._p_oid, lineage.name, lineage_key(lineage))
    try:
        w = World(limits=limits or DEFAULT_LIMITS, image=sub, caps=LINEAGE)
        w.env.guarded = evaluator_names()          # a native's or handler's ground set! too
        w.env.guard_reason = GUARD_REASON
        w.env.ensure_all()
        if not w.env.is_bound(Symbol("eval")):      # unless the lineage defined an eval of its own
            w.env.define(Symbol("eval"), Primitive.registry["my-eval/eval"])
        return w
    except BaseException:
        sub.close()
        raise


def settled_pads(lineage: Lineage) -> set[str]:
    """The scratchpad tokens of the lineage's finished attempts and reflections."""
    out = {a.pad.token for a in lineage.attempts() if a.status != "running"}
    out |= {r.reflection.pad.token for r in lineage.rounds.values()
            if r.reflection is not None and r.reflection.status != "running"}
    return out


def stale_transactions(db: Any, lineage: Lineage) -> list[Any]:
    """Undo ids of the lineage's transactions made by an attempt that never finished, newest
    first: the lineage's latest ones, back to one that is not an unfinished attempt's."""
    key, settled = lineage_key(lineage), settled_pads(lineage)
    stale: list[Any] = []
    seen, want = 0, UNDO_SCAN
    while True:
        chunk = db.undoLog(seen, want)      # newest first; ZEO takes no filter
        for d in chunk:
            if d.get(LINEAGE_TAG) != key:
                continue
            pad = d.get(PAD_TAG)
            if not pad or pad in settled:
                return stale
            stale.append(d["id"])
        if len(chunk) < want - seen:
            return stale
        seen, want = want, want * 4


def settle(image: Image, lineage: Lineage) -> int:
    """Undo what an attempt left unfinished by a crash did to the lineage's world, so
    the attempt starts over from the world the last finished one left (the run then
    goes on exactly as it would have without the crash); return how many transactions
    were undone. A storage without undo keeps them (the attempt still starts over)."""
    db = image.db
    if lineage.status != "running" or not db.supportsUndo():
        return 0
    stale = stale_transactions(db, lineage)
    if not stale:
        return 0
    image.tm.begin()
    txn = image.tm.get()
    txn.note(f"evolve: {lineage.name} undoes {len(stale)} change(s) of an unfinished attempt")
    txn.setExtendedInfo(LINEAGE_TAG, lineage_key(lineage))
    db.undoMultiple(stale, txn)
    image.tm.commit()
    return len(stale)
