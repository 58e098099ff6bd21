"""Runs and batches side by side: the settings that differ, every fitness component,
the solve rate per category, cost and tokens, the models and endpoints.

A run's column holds its last winner's components and the mean of all its
lineages'; a batch's the mean (with spread) of those over its finished
runs (world/evolve/batch.py). Nothing here prints.
"""
from __future__ import annotations

from typing import Any, Sequence

from .agent_errors import EvolveError
from .batch import COMPONENTS, Batch, batch_stats, batches_of, plain, run_metrics, spread
from .lineage import Run, evolve_root


def resolve(world: Any, names: Sequence[str]) -> list[Run | Batch]:
    """The run or batch each name names; EvolveError naming the known ones for any other."""
    root = evolve_root(world.image, create=False)
    runs = root.runs if root is not None else {}
    batches = batches_of(world.image) or {}
    out: list[Run | Batch] = []
    for name in names:
        found = runs.get(name) if name in runs else batches.get(name)
        if found is None:
            raise EvolveError(f"no run or batch named {name[:80]}: {_known(runs, batches)}")
        out.append(found)
    return out


def _known(runs: Any, batches: Any) -> str:
    """The known runs and batches, on one line (the first 20 of each)."""
    def names(tree: Any) -> str:
        keys = list(tree.keys())
        more = f" and {len(keys) - 20} more" if len(keys) > 20 else ""
        return ", ".join(keys[:20]) + more
    if not len(runs) and not len(batches):
        return "this world holds no evolution run"
    text = f"runs are {names(runs)}" if len(runs) else "no runs"
    return text + (f"; batches are {names(batches)}" if len(batches) else "")


def column(world: Any, item: Run | Batch) -> dict[str, Any]:
    """One run or batch as a column of plain data."""
    if isinstance(item, Batch):
        st = batch_stats(world, item)
        settings = dict(st["settings"])
        seeds = item.seeds
        settings["seed"] = f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else seeds[0]
        return {"name": item.id, "kind": "batch", "status": st["status"],
                "runs": f"{st['finished']}/{len(seeds)}", "settings": settings,
                "winner": st["winners"], "lineages": st["lineages"],
                "categories": {c: v for c, v in st["categories"].items()},
                "usage": st["usage"], "endpoints": st["endpoints"], "models": st["models"]}
    from .report import models_used
    m = run_metrics(item)
    winner = m["winner"] or {}
    return {"name": item.id, "kind": "run", "status": item.status, "runs": "1",
            "settings": plain(dict(item.settings)),
            "winner": {k: spread([winner[k]] if k in winner else []) for k in COMPONENTS},
            "lineages": {k: spread(l[k] for l in m["lineages"]) for k in COMPONENTS},
            "categories": {c: {**spread([v["rate"]]), "solved": v["solved"],
                               "attempted": v["attempted"]} for c, v in m["categories"].items()},
            "usage": item.usage.as_dict(), "endpoints": list(item.endpoints),
            "models": models_used(item)}


def compare(world: Any, names: Sequence[str]) -> dict[str, Any]:
    """The runs or batches `names`, side by side, with the settings in which they differ."""
    if not names:
        raise EvolveError("compare needs at least one run or batch")
    world.image.begin()
    cols = [column(world, item) for item in resolve(world, names)]
    keys: dict[str, None] = {}
    for c in cols:
        keys.update(dict.fromkeys(c["settings"]))
    missing = object()
    differ = [k for k in keys
              if len({repr(c["settings"].get(k, missing)) for c in cols}) > 1]
    return {"columns": cols, "differences": {k: [c["settings"].get(k) for c in cols]
                                             for k in differ}}


def _num(s: dict[str, Any], digits: int = 3) -> str:
    """A spread as text: the value of one, mean±sd of several, '-' of none."""
    if not s or s.get("n", 0) == 0:
        return "-"
    text = f"{s['mean']:.{digits}f}"
    return text + (f"±{s['sd']:.{digits}f}" if s.get("sd") is not None else "")


def rows(data: dict[str, Any]) -> list[list[str]]:
    """The comparison as rows of text cells, a header row first."""
    cols = data["columns"]
    out = [[""] + [c["name"] for c in cols],
           ["kind"] + [f"batch, {c['runs']} runs done" if c["kind"] == "batch"
                       else f"run, {c['status']}" for c in cols]]
    for k, vals in data["differences"].items():
        out.append([f"setting {k}"] + [_setting(v) for v in vals])
    for k in COMPONENTS:
        out.append([f"winner {k}"] + [_num(c["winner"][k]) for c in cols])
    for k in COMPONENTS:
        out.append([f"lineages {k}"] + [_num(c["lineages"][k]) for c in cols])
    cats: dict[str, None] = {}
    for c in cols:
        cats.update(dict.fromkeys(c["categories"]))
    for cat in cats:
        out.append([f"solve rate {cat}"] + [_num(c["categories"].get(cat, {}), 2) for c in cols])
    out.append(["model calls"] + [str(c["usage"]["calls"]) for c in cols])
    out.append(["tokens in/out"] + [f"{c['usage']['tokens_in']}/{c['usage']['tokens_out']}"
                                    for c in cols])
    out.append(["cost (est.)"] + [f"${c['usage']['cost']:.4f}" for c in cols])
    out.append(["model(s)"] + [", ".join(c["models"]) or "-" for c in cols])
    out.append(["endpoint(s)"] + [", ".join(c["endpoints"]) or "-" for c in cols])
    return out


def _setting(v: Any) -> str:
    """A setting's value, short enough for a table cell."""
    text = "-" if v is None else str(v)
    return text if len(text) <= 40 else text[:37] + "..."
