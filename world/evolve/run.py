"""Running a tournament: start one, resume one, alone or with worker processes.

`start` creates a run from settings and runs it; `resume` carries on the
last unfinished run (or a named one). With `parallel` > 1 the lineages of
each generation are shared out among worker processes that open the same
world through ZEO: each claims a lineage that nobody owns, runs it, and
claims the next; the coordinator watches the records and reports progress.
A lineage left half-done by a killed process is claimed again on resume and
carries on from its last finished attempt.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Callable

from ZODB.POSException import ConflictError

from .agent_errors import EvolveError
from .lineage import Generation, Run, evolve_root, settle
from .players import make_player
from .rounds import restrict, settings as make_settings
from .seeding import seed_source
from .spend import CostLimit, check as check_cost
from .tournament import new_run, run_generations, run_lineage

POLL = 0.25                 # seconds between looks at the records while workers run
Progress = Callable[[dict[str, Any]], Any]


def load_problems(s: dict[str, Any]) -> Any:
    """The pool this run draws from."""
    from .pool import load_pool
    return restrict(load_pool(), s["problems"])


def player_for(s: dict[str, Any], header: dict[str, Any] | None = None) -> Any:
    """The player a run's settings name."""
    from .model import DEFAULT_MODEL
    return make_player(s["agent"], s["model"] or DEFAULT_MODEL, s["record"], header,
                       timeout=s["timeout"], retries=s["retries"], backoff=s["backoff"],
                       **_model_options(s))


def _model_options(s: dict[str, Any]) -> dict[str, Any]:
    """Sampling and caching options for a model player (runs recorded before them have none)."""
    t = s.get("temperature")
    out: dict[str, Any] = {"cache": bool(s.get("cache", True))}
    if t is not None:
        out["temperature"] = t
    return out


def find_run(world: Any, run_id: str | None = None, unfinished: bool = False) -> Run:
    """The run `run_id`, or the last one; EvolveError if there is none."""
    root = evolve_root(world.image, create=False)
    if root is None or not len(root.runs):
        raise EvolveError(f"{world.image.where} holds no evolution run: start one with "
                          f"`world evolve --lineages M --rounds N`")
    rid = run_id or root.last_run
    run = root.runs.get(rid)
    if run is None:
        raise EvolveError(f"no run named {rid}: runs are {', '.join(root.runs.keys())}")
    if unfinished and run.status == "done":
        raise EvolveError(f"run {rid} is finished: nothing to resume (see `world evolve report {rid}`)")
    return run


def writable(world: Any, what: str) -> None:
    """EvolveError unless the world can record `what` (it is not opened read-only)."""
    if getattr(world.image, "read_only", False):
        raise EvolveError(f"{what} records everything in the world, but {world.image.where} "
                          f"is open read-only: drop --read-only")


def start(world: Any, progress: Progress = lambda e: None, zeo: str | None = None,
          run_id: str | None = None, **given: Any) -> Run:
    """Create a run from `given` settings and run it to the end.

    A replay takes the recorded run's settings for every one not given."""
    s = make_settings(**{**_recorded(given.get("agent")),
                         **{k: v for k, v in given.items() if v is not None}})
    if s["parallel"] > 1 and zeo is None:
        raise EvolveError("--parallel needs the world on a ZEO server (the CLI starts one)")
    writable(world, "a run")
    if s.get("from_hall") is not None:
        from .hall import hall_seed
        hall_seed(world, s["from_hall"])            # an unknown id stops here, before the run
    pool = load_problems(s)
    player = player_for(s, {"settings": _plain(s)})
    rid = run_id or time.strftime("run-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
    world.image.begin()
    run = new_run(world.image, rid, s, player.label)
    note_endpoint(world.image, run, player)
    return _go(world, run, player, pool, progress, zeo)


def resume(world: Any, progress: Progress = lambda e: None, zeo: str | None = None,
           run_id: str | None = None, agent: str | None = None, parallel: int | None = None,
           max_cost: float | None = None, cache: bool | None = None) -> Run:
    """Carry on an unfinished run where it stopped (`max_cost`: its new cost limit; `cache`:
    prompt caching on or off from now on, which changes the cost, not the results)."""
    writable(world, "a resumed run")
    world.image.begin()
    run = find_run(world, run_id, unfinished=True)
    if getattr(run, "held_out_of", ""):
        raise EvolveError(f"run {run.id} is a held-out evaluation: carry it on with "
                          f"`world evolve hall {run.held_out_of} --held-out`")
    s = dict(run.settings)
    if agent:
        s["agent"] = agent
    if max_cost is not None:
        s["max_cost"] = make_settings(max_cost=max_cost)["max_cost"]      # validated
    if cache is not None:
        s["cache"] = make_settings(cache=cache)["cache"]
    if parallel:
        s["parallel"] = parallel
    elif zeo is None:
        s["parallel"] = 1           # resumed alone: the lineages left run in this process
    if s["parallel"] > 1 and zeo is None:
        raise EvolveError("--parallel needs the world on a ZEO server (the CLI starts one)")
    run.usage.ensure_cache()                      # before workers bump them at once
    for gen in run.generations.values():          # nobody is working on it now
        for lineage in gen.lineages.values():
            lineage.usage.ensure_cache()
            if lineage.owner:
                lineage.owner = ""
    run.settings = s
    world.image.tm.commit()
    for gen in run.generations.values():          # an attempt cut short starts over from
        for lineage in gen.lineages.values():     # the world its predecessor left
            settle(world.image, lineage)
    world.image.begin()
    player = player_for(s)
    note_endpoint(world.image, run, player)
    return _go(world, run, player, load_problems(s), progress, zeo)


def endpoint_of(player: Any) -> str:
    """Where a player's replies come from: the model API's base URL, or the replay file."""
    inner = getattr(player, "player", player)           # unwrap a Recorded player
    model = getattr(inner, "model", None)
    if model is not None and hasattr(model, "endpoint"):
        return model.endpoint
    if getattr(inner, "kind", "") == "replay":
        return f"replay:{inner.path}"
    return ""                   # the reference player asks nobody


def note_endpoint(image: Any, run: Run, player: Any) -> None:
    """Record with the run the endpoint its replies come from now (if new)."""
    where = endpoint_of(player)
    if where and where not in run.endpoints[-1:]:
        image.begin()
        run.endpoints = tuple(run.endpoints) + (where,)
        image.tm.get().note(f"evolve: run {run.id} talks to {where}")
        image.tm.commit()


def _recorded(agent: str | None) -> dict[str, Any]:
    """The settings a replay file's header holds (those that decide what is asked)."""
    if not agent or not agent.startswith("replay:"):
        return {}
    from .players import ReplayPlayer
    from .rounds import DEFAULTS
    header = ReplayPlayer(agent[len("replay:"):]).header.get("settings") or {}
    return {k: v for k, v in header.items()
            if k in DEFAULTS and k not in ("agent", "record", "parallel", "model")}


def _plain(s: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items()}


def _seed(world: Any, s: dict[str, Any]) -> tuple[Any, str]:
    """Generation 1's seed and where it came from: the seed my-eval, or a hall entry's package."""
    if not s.get("from_hall"):
        return seed_source(), "seed-eval.lisp"
    from .hall import hall_seed
    return hall_seed(world, s["from_hall"]), f"hall {s['from_hall']}"


def _go(world: Any, run: Run, player: Any, pool: Any, progress: Progress, zeo: str | None) -> Run:
    s = run.settings
    fan_out = None
    if s["parallel"] > 1:
        fan_out = lambda gen: run_workers(world, run, gen, zeo, progress)   # noqa: E731
    try:
        return run_generations(world.image, run, player, pool, fan_out, progress,
                               *_seed(world, s))
    except CostLimit:
        world.image.abort()         # the attempt not yet asked about is not recorded
        raise


# ---------------------------------------------------------------- workers

def claim(image: Any, gen: Generation, owner: str) -> Any:
    """Claim a lineage of `gen` that is not done and has no owner; None when none is left."""
    for _ in range(20):
        image.tm.begin()
        free = [l for l in gen.lineages.values() if l.status != "done" and not l.owner]
        if not free:
            image.tm.abort()
            return None
        free[0].owner = owner
        try:
            image.tm.get().note(f"evolve: {owner} claims {free[0].name}")
            image.tm.commit()
            return free[0]
        except ConflictError:
            image.tm.abort()
            time.sleep(0.05)
    raise EvolveError("could not claim a lineage: every attempt conflicted with another worker")


def work(world: Any, run_id: str, generation: int, progress: Progress = lambda e: None) -> int:
    """A worker's loop: claim lineages of `generation` and run them; return how many it ran."""
    owner = f"{os.uname().nodename}:{os.getpid()}"
    world.image.begin()
    run = find_run(world, run_id)
    gen = run.generations[generation]
    s = run.settings
    pool = load_problems(s)
    player = player_for(s)
    by_id = {p.id: p for p in pool}
    done = 0
    while True:
        lineage = claim(world.image, gen, owner)
        if lineage is None:
            return done
        run_lineage(world.image, run, lineage, player, by_id, progress)
        done += 1


def run_workers(world: Any, run: Run, gen: Generation, zeo: str, progress: Progress) -> None:
    """Run `gen`'s lineages in worker processes; report progress until they all finish."""
    n = min(run.settings["parallel"], len(gen.lineages))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "repl.evolve_worker", "--zeo", zeo, "--run", run.id,
           "--generation", str(gen.number)]
    if getattr(world.image, "tls", None):         # the workers dial the server as we did
        cmd += ["--tls", world.image.tls]
    logs = [tempfile.TemporaryFile("w+", encoding="utf-8") for _ in range(n)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True, env=env)
             for log in logs]
    try:
        while any(p.poll() is None for p in procs):
            time.sleep(POLL)
            world.image.tm.begin()      # see the workers' commits
            progress({"phase": "poll", "generation": gen.number, "run": run})
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
    errors = []
    for p, log in zip(procs, logs):
        log.seek(0)
        lines = [line[len("error: "):] for line in log.read().splitlines()
                 if line.startswith("error: ")]
        log.close()
        if p.returncode != 0:
            errors.append(lines[-1] if lines else f"a worker exited with status {p.returncode}")
    world.image.tm.begin()
    left = [l.name for l in gen.lineages.values() if l.status != "done"]
    if left:
        check_cost(run)         # the workers stopped at the cost limit
    if errors:
        raise EvolveError(f"{len(errors)} of {n} workers failed: {errors[-1]}")
    if left:
        raise EvolveError(f"the workers stopped with {', '.join(left)} unfinished: "
                          f"run `world evolve --resume`")
