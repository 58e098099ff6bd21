"""Batches: N seeded repetitions of one run configuration, and their statistics.

A `Batch` record (under the evolution root's `batches` BTree, beside its
runs) holds the configuration given (every run setting but the seed) and the
seeds; its runs are ordinary runs named `BATCH-s1`, `BATCH-s2`, ..., each
with the batch's configuration and its own seed. `run_batch` is resumable:
re-running a batch skips its finished runs, resumes an unfinished one and
starts the ones not begun; a larger seed count extends it.

`batch_stats` gives the mean and spread (sample standard deviation, min,
max) of every fitness component over the winners (each run's last
generation's winner: one value per seed) and over all lineages (every
lineage of every generation of every run), and the solve rate per category
(solved over attempted by all of a run's lineages, one value per seed).
`run_metrics` gives the same of one run, for `compare`. Only finished runs
count. Nothing here prints.
"""
from __future__ import annotations

import os
import re
import statistics
import time
import uuid
from typing import Any, Callable, Iterable

from BTrees.OOBTree import OOBTree

from ..objects.format import Versioned
from .agent_errors import EvolveError
from .lineage import Run, evolve_root
from .rounds import CATEGORIES, settings as make_settings
from .spend import CostLimit

COMPONENTS = ("solve", "novelty", "efficiency", "diversity", "richness", "total")
# Settings that do not change what a run computes: a batch re-run may give other values.
OPERATIONAL = frozenset({"parallel", "record", "timeout", "retries", "backoff", "max_cost"})
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}\Z")
Progress = Callable[[dict[str, Any]], Any]


class Batch(Versioned):
    """N seeded runs of one configuration: its settings (seed excluded) and seeds."""

    format_version = 1
    status = "running"          # running, done
    finished = 0.0

    def __init__(self, batch_id: str, given: dict[str, Any], seeds: tuple[int, ...]) -> None:
        self.id, self.given, self.seeds = batch_id, dict(given), tuple(seeds)
        self.created = time.time()

    def run_id(self, seed: int) -> str:
        """The id of the batch's run with `seed`."""
        return f"{self.id}-s{seed}"

    def run_ids(self) -> list[str]:
        """The ids of every run of the batch, by seed."""
        return [self.run_id(s) for s in self.seeds]

    def settings(self) -> dict[str, Any]:
        """The batch's configuration with every default filled in (seed: the first)."""
        return make_settings(**{**self.given, "seed": self.seeds[0]})


def batches_of(image: Any, create: bool = False) -> Any:
    """The BTree of batches by id (None if there is none and `create` is false)."""
    root = evolve_root(image, create=create)
    if root is None:
        return None
    found = getattr(root, "batches", None)
    if found is None and create:
        found = root.batches = OOBTree()
    return found


def find_batch(world: Any, batch_id: str) -> Batch | None:
    """The batch `batch_id`, or None."""
    found = batches_of(world.image)
    return None if found is None else found.get(batch_id)


def plain(v: Any) -> Any:
    """A setting's value as JSON-like data (tuples as lists), for comparing and printing."""
    if isinstance(v, (tuple, list)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


# ---------------------------------------------------------------- running

def seed_range(first: int | None, count: int | None) -> tuple[int, ...] | None:
    """The seeds first..first+count-1 (None when no count is given)."""
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise EvolveError(f"--seeds must be a positive whole number, not {count!r}")
    if count > 1000:
        raise EvolveError(f"--seeds is at most 1000, not {count}")
    first = 1 if first is None else first
    return tuple(range(first, first + count))


def new_batch_id() -> str:
    """A fresh batch id: batch-DATE-TIME-xxxx."""
    return time.strftime("batch-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]


def open_batch(world: Any, batch_id: str | None, given: dict[str, Any],
               seeds: tuple[int, ...] | None) -> Batch:
    """The batch `batch_id` (checked against `given` and `seeds`), or a new one, committed."""
    given = {k: v for k, v in given.items() if v is not None and k != "seed"}
    if batch_id is None and seeds is None:
        known = list((batches_of(world.image) or {}).keys())
        raise EvolveError("give --seeds N to start a batch, or --batch-id NAME to carry one on"
                          + (f" (batches: {', '.join(known[-10:])})" if known else ""))
    bid = batch_id or new_batch_id()
    if not BATCH_ID.match(bid):
        raise EvolveError(f"batch id {bid[:80]!r} must be letters, digits, '.', '_' or '-' "
                          f"(at most 80, starting with a letter or digit)")
    image = world.image
    image.begin()
    try:
        return _open(image, bid, given, seeds)
    except BaseException:
        image.tm.abort()            # nothing of a refused request stays in the transaction
        raise


def _open(image: Any, bid: str, given: dict[str, Any], seeds: tuple[int, ...] | None) -> Batch:
    batches = batches_of(image, create=True)
    batch = batches.get(bid)
    if batch is None:
        if seeds is None:
            raise EvolveError(f"no batch named {bid}: give --seeds N to start one")
        from .run import load_problems        # bad settings or problem ids fail before
        load_problems(make_settings(**{**given, "seed": seeds[0]}))     # anything is stored
        runs = evolve_root(image).runs
        taken = [f"{bid}-s{s}" for s in seeds if f"{bid}-s{s}" in runs]
        if taken:
            raise EvolveError(f"a run named {taken[0]} exists already: choose another --batch-id")
        batch = batches[bid] = Batch(bid, _identity(given), seeds)
        _commit(image, f"evolve: start batch {bid} ({len(seeds)} seeds)")
        return batch
    _check_same(batch, given)
    if seeds is not None:
        if seeds[0] != batch.seeds[0]:
            raise EvolveError(f"batch {bid} starts at seed {batch.seeds[0]}, not {seeds[0]}: "
                              f"drop --seed or choose another --batch-id")
        if len(seeds) > len(batch.seeds):          # more seeds extend the batch
            batch.seeds = seeds
            batch.status = "running"
            _commit(image, f"evolve: batch {bid} extended to {len(seeds)} seeds")
    image.tm.abort()
    return batch


def _identity(given: dict[str, Any]) -> dict[str, Any]:
    """The settings that decide what a run computes (operational ones left out)."""
    return {k: v for k, v in given.items() if k not in OPERATIONAL}


def _check_same(batch: Batch, given: dict[str, Any]) -> None:
    """EvolveError if `given` sets a result-deciding setting to other than the batch's."""
    stored = batch.settings()
    now = make_settings(**{**batch.given, **_identity(given), "seed": batch.seeds[0]})
    differ = [k for k in stored if k not in OPERATIONAL and plain(stored[k]) != plain(now[k])]
    if differ:
        shown = ", ".join(f"{k} {plain(stored[k])!r} (given {plain(now[k])!r})" for k in differ[:4])
        raise EvolveError(f"batch {batch.id} was started with {shown}: drop those flags to "
                          f"carry it on, or choose another --batch-id")


def _commit(image: Any, note: str) -> None:
    image.tm.get().note(note)
    image.tm.commit()


def record_path(path: str | None, seed: int) -> str | None:
    """Where the run with `seed` records its replies: FILE-sN.ext beside FILE."""
    if not path:
        return None
    stem, ext = os.path.splitext(path)
    return f"{stem}-s{seed}{ext}"


def run_batch(world: Any, batch: Batch, progress: Progress = lambda e: None,
              zeo: str | None = None, operational: dict[str, Any] | None = None) -> Batch:
    """Run every seed of `batch` not finished yet (resuming an interrupted one), in order.

    `operational` settings (parallel, record, timeout, max_cost, ...) apply to this invocation
    only; a cost limit is each run's. A run that stops short (its cost limit reached) stops
    the batch, with an EvolveError saying how to carry it on."""
    from .run import resume, start
    ops = {k: v for k, v in (operational or {}).items() if k in OPERATIONAL and v is not None}
    runs = evolve_root(world.image).runs
    for seed in batch.seeds:
        rid = batch.run_id(seed)
        world.image.begin()
        run = runs.get(rid)
        if run is not None and run.status == "done":
            progress({"phase": "batch-skip", "batch": batch.id, "run": rid, "seed": seed})
            continue
        if run is None:
            progress({"phase": "batch-run", "batch": batch.id, "run": rid, "seed": seed})
            s = {**batch.given, **ops, "seed": seed, "record": record_path(ops.get("record"), seed)}
            try:
                run = start(world, progress, zeo, rid, **s)
            except CostLimit as e:
                raise _stopped(batch, e) from None
        else:
            if run.settings.get("seed") != seed:
                raise EvolveError(f"run {rid} has seed {run.settings.get('seed')}, not {seed}: "
                                  f"it is not batch {batch.id}'s")
            progress({"phase": "batch-resume", "batch": batch.id, "run": rid, "seed": seed})
            try:
                run = resume(world, progress, zeo, rid, batch.given.get("agent"),
                             ops.get("parallel"), ops.get("max_cost"))
            except CostLimit as e:
                raise _stopped(batch, e) from None
        if run.status != "done":
            progress({"phase": "batch-stopped", "batch": batch.id, "run": rid, "seed": seed})
            return batch
    world.image.begin()
    batch.status, batch.finished = "done", time.time()
    _commit(world.image, f"evolve: batch {batch.id} done")
    return batch


def _stopped(batch: Batch, e: Any) -> EvolveError:
    """A run's cost limit, as the batch's: carried on by re-running the batch."""
    return EvolveError(f"batch {batch.id} stopped: run {e.run_id} reached its ${e.limit:.4f} "
                       f"limit (each run has its own) with an estimated ${e.spent:.4f} spent; "
                       f"carry the batch on with `world evolve batch --batch-id {batch.id} "
                       f"--max-cost MORE`")


# ---------------------------------------------------------------- statistics

def spread(values: Iterable[float]) -> dict[str, Any]:
    """n, mean, sample standard deviation (None below 2 values), min and max of `values`."""
    xs = [float(v) for v in values]
    if not xs:
        return {"n": 0, "mean": None, "sd": None, "min": None, "max": None}
    return {"n": len(xs), "mean": statistics.fmean(xs),
            "sd": statistics.stdev(xs) if len(xs) > 1 else None,
            "min": min(xs), "max": max(xs)}


def _components(fitness: dict[str, Any] | None) -> dict[str, float] | None:
    if not fitness:
        return None
    return {k: float(fitness.get(k, 0.0)) for k in COMPONENTS}


def run_metrics(run: Run) -> dict[str, Any]:
    """One run's fitness components (its last winner's, and every finished lineage's) and its
    solve rate per category over all its lineages' attempts."""
    winner, lineages = None, []
    by_cat: dict[str, list[int]] = {}
    for gen in run.generations.values():
        for lineage in gen.lineages.values():
            comps = _components(lineage.fitness)
            if comps is not None:
                lineages.append(comps)
            for att in lineage.attempts():
                if att.status == "running":
                    continue
                cell = by_cat.setdefault(att.category, [0, 0])
                cell[0] += bool(att.solved)
                cell[1] += 1
        if gen.winner >= 0:
            winner = _components(gen.lineages[gen.winner].fitness)
    cats = {c: {"solved": v[0], "attempted": v[1], "rate": v[0] / v[1]}
            for c, v in sorted(by_cat.items(), key=lambda kv: _cat_order(kv[0]))}
    return {"winner": winner, "lineages": lineages, "categories": cats}


def _cat_order(cat: str) -> tuple[int, str]:
    return (CATEGORIES.index(cat) if cat in CATEGORIES else len(CATEGORIES), cat)


def batch_stats(world: Any, batch: Batch) -> dict[str, Any]:
    """The batch as plain data: its runs, and mean and spread of every fitness component
    over the winners and over all lineages, and of the solve rate per category."""
    from .report import models_used
    runs = evolve_root(world.image).runs
    rows, winners, lineages = [], [], []
    cats: dict[str, list[float]] = {}
    totals: dict[str, list[int]] = {}
    usage: dict[str, Any] = {"calls": 0, "tokens_in": 0, "tokens_out": 0, "cost": 0.0}
    endpoints: dict[str, None] = {}
    models: dict[str, None] = {}
    for seed in batch.seeds:
        run = runs.get(batch.run_id(seed))
        if run is None:
            rows.append({"run": batch.run_id(seed), "seed": seed, "status": "not started"})
            continue
        for k, v in run.usage.as_dict().items():      # whatever counters usage has
            usage[k] = usage.get(k, 0) + v
        endpoints.update(dict.fromkeys(run.endpoints))
        models.update(dict.fromkeys(models_used(run)))
        m = run_metrics(run)
        last = list(run.generations.values())[-1:] if len(run.generations) else []
        win = (last[0].lineages[last[0].winner].name
               if last and last[0].winner >= 0 else None)
        rows.append({"run": run.id, "seed": seed, "status": run.status, "winner": win,
                     "fitness": (m["winner"] or {}).get("total"),
                     "solved": sum(c["solved"] for c in m["categories"].values()),
                     "attempted": sum(c["attempted"] for c in m["categories"].values())})
        if run.status != "done":
            continue
        if m["winner"] is not None:
            winners.append(m["winner"])
        lineages += m["lineages"]
        for c, v in m["categories"].items():
            cats.setdefault(c, []).append(v["rate"])
            t = totals.setdefault(c, [0, 0])
            t[0] += v["solved"]
            t[1] += v["attempted"]
    ordered = sorted(cats, key=_cat_order)
    return {"batch": batch.id, "status": batch.status, "seeds": list(batch.seeds),
            "given": plain(batch.given), "settings": plain(batch.settings()),
            "runs": rows, "finished": sum(r["status"] == "done" for r in rows),
            "winners": {k: spread(w[k] for w in winners) for k in COMPONENTS},
            "lineages": {k: spread(l[k] for l in lineages) for k in COMPONENTS},
            "categories": {c: {**spread(cats[c]), "solved": totals[c][0],
                               "attempted": totals[c][1]} for c in ordered},
            "usage": usage, "endpoints": list(endpoints), "models": list(models)}
