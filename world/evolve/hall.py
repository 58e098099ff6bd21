"""The hall of fame as a researcher's tool: every entry as data, one entry
whole, the evaluator a run starts from (`--from-hall ID`), and held-out
evaluation of an entry on problems its run never showed.

An entry's id is `RUN/0001`: its run and generation. Held-out problems are
the pool's problems that no lineage of the entry's run (nor of the runs it
descends from through `--from-hall`) met in any round of any generation. A
held-out evaluation is a run of its own (one lineage, one generation, the
entry's evaluator as seed, only held-out problems), kept with the other runs
so `world evolve report` shows it whole; it is marked `held_out_of` the entry,
never enters the hall, and its result (solve rate per category beside the
entry's own) is recorded with the entry. Nothing here prints.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from .agent_errors import EvolveError
from .lineage import HallEntry, Lineage, Run, evolve_root, settle
from .rounds import CATEGORIES
from .seeding import pretty, pretty_lines
from .spend import CostLimit

COMPONENTS = ("solve", "novelty", "efficiency", "diversity", "richness")
RESUME_FLAGS = ("agent", "model", "timeout", "max_cost")    # what carrying one on may change
SHOWN_IDS = 8               # hall ids an unknown-id error names before it says how to list them
Progress = Callable[[dict[str, Any]], Any]

# A held-out run is one lineage, one generation, alone; it takes the other settings of
# the entry's run, except these (its own problems, no replay file, no personality).
HELD_OUT_FIXED = {"lineages": 1, "generations": 1, "parallel": 1, "islands": 1,
                  "migrate_every": 0, "adversary": False}
NOT_INHERITED = ("record", "personalities", "problems", "from_hall")


# ---------------------------------------------------------------- finding entries

def entries(world: Any) -> list[tuple[str, HallEntry]]:
    """Every hall-of-fame entry with its id, oldest run first."""
    root = evolve_root(world.image, create=False)
    if root is None:
        return []
    return sorted(root.hall.items(), key=lambda kv: (kv[1].time, kv[0]))


def find_entry(world: Any, hid: str) -> HallEntry:
    """The entry `hid`; EvolveError naming the known ids (or how to list them) if none."""
    root = evolve_root(world.image, create=False)
    found = root.hall.get(hid) if root is not None and isinstance(hid, str) else None
    if found is not None:
        return found
    known = [k for k, _ in entries(world)]
    if not known:
        raise EvolveError(f"no hall-of-fame entry {hid!r}: the hall of fame of "
                          f"{world.image.where} is empty (a finished generation enters it)")
    if len(known) <= SHOWN_IDS:
        raise EvolveError(f"no hall-of-fame entry {hid!r}: entries are {', '.join(known)}")
    raise EvolveError(f"no hall-of-fame entry {hid!r}: {len(known)} entries, e.g. "
                      f"{', '.join(known[-3:])}; list them with `world evolve hall`")


def hall_seed(world: Any, hid: str) -> dict[str, Any]:
    """The evaluator package a run seeded from entry `hid` starts from (`--from-hall`),
    checked: a damaged one is an EvolveError in one line before anything runs."""
    from .package import check, stored
    return check(stored(find_entry(world, hid)), f"the evaluator package of {hid}")


def parts(entry: HallEntry) -> dict[str, list[tuple[str, str]]]:
    """The entry's helpers and natives as (name, source) pairs (none for an old entry)."""
    from .package import KINDS, stored
    package = stored(entry)
    out: dict[str, list[tuple[str, str]]] = {}
    for kind in KINDS:
        got = package.get(kind) if isinstance(package, dict) else None
        try:
            out[kind] = [(str(n), str(src)) for n, src in got or ()]
        except (TypeError, ValueError):         # a damaged record is shown as empty, never a crash
            out[kind] = []
    return out


# ---------------------------------------------------------------- entries as data

def source_lineage(world: Any, entry: HallEntry) -> Lineage | None:
    """The lineage that won the entry's generation (None if its run is gone)."""
    root = evolve_root(world.image, create=False)
    run = root.runs.get(entry.run_id) if root is not None else None
    gen = run.generations.get(entry.generation) if run is not None else None
    if gen is None:
        return None
    for lineage in gen.lineages.values():
        if lineage.name == entry.lineage:
            return lineage
    return None


def by_category(attempts: Any) -> dict[str, list[int]]:
    """[solved, attempted] per category of some attempts, categories in the pool's order."""
    out: dict[str, list[int]] = {}
    for a in attempts:
        row = out.setdefault(a.category, [0, 0])
        row[0] += bool(a.solved)
        row[1] += 1
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def entry_row(world: Any, hid: str, entry: HallEntry) -> dict[str, Any]:
    """One entry as plain data: where it won, every fitness component, its size, held-out scores."""
    f = {k: _number(v) for k, v in entry.fitness.items()} if isinstance(entry.fitness, dict) else {}
    p = parts(entry)
    held = held_outs(entry)
    return {"id": hid, "run": entry.run_id, "generation": entry.generation,
            "lineage": entry.lineage, "fitness": f.get("total"),
            "components": {k: f.get(k) for k in COMPONENTS},
            "solved": f.get("solved"), "attempted": f.get("attempted"),
            "new_constructs": f.get("new_constructs"),
            "evaluator_lines": pretty_lines(_source(entry)),
            "helpers": len(p["helpers"]), "natives": len(p["natives"]),
            "held_out": held[-1] if held else None, "time": entry.time}


def _number(x: Any) -> Any:
    """A stored number as it is; anything else (a damaged record) as None."""
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _source(entry: HallEntry) -> str:
    """The entry's my-eval source ('' for a damaged record)."""
    return entry.evaluator if isinstance(entry.evaluator, str) else ""


def held_outs(entry: HallEntry) -> list[dict[str, Any]]:
    """The entry's held-out results, oldest first (a damaged record gives none)."""
    held = entry.held_out
    if not isinstance(held, tuple):
        return []
    return [h for h in held if isinstance(h, dict) and {"solved", "attempted", "run"} <= set(h)]


def hall_rows(world: Any) -> list[dict[str, Any]]:
    """Every entry as plain data."""
    return [entry_row(world, hid, e) for hid, e in entries(world)]


def entry_view(world: Any, hid: str) -> dict[str, Any]:
    """One entry whole: its row, evaluator pretty-printed, helpers, natives, per-category
    solve rate in its run, and every held-out evaluation of it."""
    entry = find_entry(world, hid)
    row = entry_row(world, hid, entry)
    lineage = source_lineage(world, entry)
    row.update({f"{k}_sources": v for k, v in parts(entry).items()})
    row["evaluator"] = pretty(_source(entry))
    row["categories"] = by_category(lineage.attempts()) if lineage is not None else {}
    row["held_out_runs"] = held_outs(entry)
    return row


def table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Hall rows as text cells, a header row first."""
    out = [["id", "run", "gen", "lineage", "fitness", *COMPONENTS, "solved", "lines", "helpers", "natives",
            "held-out"]]
    for r in rows:
        comps = ["-" if r["components"][k] is None else f"{r['components'][k]:.2f}"
                 for k in COMPONENTS]
        h = r["held_out"]
        out.append([r["id"], r["run"], str(r["generation"]), r["lineage"], _num(r["fitness"], 3), *comps,
                    f"{r['solved']}/{r['attempted']}", str(r["evaluator_lines"]),
                    str(r["helpers"]), str(r["natives"]),
                    "-" if h is None else f"{h['solved']}/{h['attempted']} ({_pct(h)})"])
    return out


def _num(x: Any, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(h: dict[str, Any]) -> str:
    return f"{100 * h['solved'] / h['attempted']:.0f}%" if h["attempted"] else "-"


# ---------------------------------------------------------------- held-out problems

def seen_problems(world: Any, run: Run) -> set[int]:
    """Every problem shown to any lineage of `run` or of the runs it started from (--from-hall)."""
    root = evolve_root(world.image, create=False)
    seen: set[int] = set()
    visited: set[str] = set()
    while run is not None and run.id not in visited:
        visited.add(run.id)
        for gen in run.generations.values():
            for ids in dict(gen.problems).values():
                seen |= set(ids)
            for lineage in gen.lineages.values():         # whatever a round actually held
                for rnd in lineage.rounds.values():
                    seen |= set(rnd.problems)
        parent = run.settings.get("from_hall")
        entry = root.hall.get(parent) if parent else None
        run = root.runs.get(entry.run_id) if entry is not None else None
    return seen


def unseen_problems(world: Any, entry: HallEntry, pool: Any) -> list[int]:
    """Ids of `pool`'s problems the entry's run never showed, in id order."""
    root = evolve_root(world.image, create=False)
    run = root.runs.get(entry.run_id)
    seen = seen_problems(world, run) if run is not None else set()
    return sorted(p.id for p in pool if p.id not in seen)


def held_out_runs(world: Any, hid: str) -> list[Run]:
    """The held-out runs of entry `hid`, oldest first."""
    root = evolve_root(world.image, create=False)
    if root is None:
        return []
    found = [r for r in root.runs.values() if getattr(r, "held_out_of", "") == hid]
    return sorted(found, key=lambda r: r.created)


def evaluate_held_out(world: Any, hid: str, progress: Progress = lambda e: None,
                      **given: Any) -> dict[str, Any]:
    """Evaluate entry `hid` on held-out problems (or carry on an unfinished evaluation of it);
    record the result with the entry and return it. `given` are run settings over the
    entry's run's own (agent, model, rounds, per_round, budgets, ...)."""
    from .run import load_problems, note_endpoint, player_for, writable
    writable(world, "a held-out evaluation")
    image = world.image
    image.begin()
    entry = find_entry(world, hid)
    pending = [r for r in held_out_runs(world, hid) if r.status != "done"]
    if pending:                             # cut short: carry it on, as `--resume` would
        run = pending[-1]
        again = {k: given[k] for k in RESUME_FLAGS if given.get(k) is not None}
        if again:
            from .rounds import settings as make_settings
            run.settings = make_settings(**{**run.settings, **again})
        lineages = [l for g in run.generations.values() for l in g.lineages.values()]
        for lineage in lineages:
            lineage.owner = ""
        image.tm.commit()
        for lineage in lineages:
            settle(image, lineage)
        image.begin()
        player = player_for(run.settings)
    else:
        run, player = _new_held_out_run(world, hid, entry, given)
    note_endpoint(image, run, player)
    return _finish(world, hid, entry, run, player, load_problems(run.settings), progress)


def _new_held_out_run(world: Any, hid: str, entry: HallEntry,
                      given: dict[str, Any]) -> tuple[Run, Any]:
    """Create (and commit) a held-out run of `entry`; EvolveError when nothing is held out."""
    from .pool import load_pool
    from .rounds import DEFAULTS, restrict, settings as make_settings
    from .run import player_for
    image = world.image
    root = evolve_root(image)
    src = root.runs.get(entry.run_id)
    base = dict(src.settings) if src is not None else {}
    hall_seed(world, hid)                   # a damaged package stops here, before any run
    pool = restrict(load_pool(), given.get("problems"))
    unseen = unseen_problems(world, entry, pool)
    if not unseen:
        raise EvolveError(f"no held-out problems for {hid}: run {entry.run_id} showed every "
                          f"problem{' given' if given.get('problems') else ' of the pool'}")
    mine = {k: v for k, v in base.items() if k in DEFAULTS and k not in NOT_INHERITED}
    if str(mine.get("agent", "")).startswith("replay:"):
        mine["agent"] = "model"             # its recording holds no reply to these prompts
    mine.update({k: v for k, v in given.items() if v is not None and k != "problems"})
    mine["mode"] = "single" if mine.get("mode") == "single" else "tournament"
    mine.update(HELD_OUT_FIXED, problems=tuple(unseen), from_hall=hid)
    rounds = mine.get("rounds") or DEFAULTS["rounds"]
    if given.get("per_round") is None:      # as many as its run met, without repeats
        per = mine.get("per_round") or DEFAULTS["per_round"]
        mine["per_round"] = max(1, min(per, len(unseen) // rounds))
    s = make_settings(**mine)
    player = player_for(s)
    n = len(held_out_runs(world, hid)) + 1
    rid = f"{entry.run_id}-g{entry.generation}-held-out-{n}"
    if rid in root.runs:
        rid += "-" + uuid.uuid4().hex[:4]
    image.begin()
    run = Run(rid, s, player.label)
    run.held_out_of = hid
    root.runs[rid] = run                # beside the other runs; last_run stays as it was
    image.tm.get().note(f"evolve: held-out evaluation {rid} of {hid}")
    image.tm.commit()
    return run, player


def _finish(world: Any, hid: str, entry: HallEntry, run: Run, player: Any, pool: Any,
            progress: Progress) -> dict[str, Any]:
    """Run the held-out run's one lineage to the end; record and return its result."""
    from .tournament import new_generation, run_lineage
    image = world.image
    gen = run.generations.get(1)
    if gen is None:
        gen = new_generation(image, run, 1, hall_seed(world, hid), f"hall {hid}", pool)
    lineage = gen.lineages[0]
    if lineage.status != "done":
        progress({"phase": "generation", "generation": 1})
        try:
            run_lineage(image, run, lineage, player, {p.id: p for p in pool}, progress)
        except CostLimit as e:
            image.abort()           # the attempt not yet asked about is not recorded
            raise EvolveError(f"held-out run {run.id} of {hid} reached its ${e.limit:.4f} limit "
                              f"(estimated ${e.spent:.4f} spent) and stopped between model "
                              f"calls; go on with `world evolve hall {hid} --held-out "
                              f"--max-cost MORE`") from None
    image.begin()
    gen.winner, gen.status = 0, "done"
    run.status, run.finished = "done", time.time()
    result = _result(world, entry, run, lineage)
    entry.held_out = tuple(held_outs(entry)) + (result,)
    image.tm.get().note(f"evolve: {hid} held out: {result['solved']}/{result['attempted']}")
    image.tm.commit()
    return result


def _result(world: Any, entry: HallEntry, run: Run, lineage: Lineage) -> dict[str, Any]:
    """A held-out evaluation's outcome as plain data, the entry's own rates beside it."""
    attempts = list(lineage.attempts())
    own = source_lineage(world, entry)
    return {"run": run.id, "agent": run.agent, "time": run.finished,
            "problems": sorted({a.problem for a in attempts}),
            "solved": sum(a.solved for a in attempts), "attempted": len(attempts),
            "categories": by_category(attempts),
            "own_categories": by_category(own.attempts()) if own is not None else {},
            "failure": lineage.failure, "fitness": dict(lineage.fitness or {})}
