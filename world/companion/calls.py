"""The companion's model calls: which model, the key, streaming, and the cost log.

The model layer is evolution's (world/evolve/model.py: the `anthropic` SDK,
`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, retries of 429/5xx/timeouts, cost). The model
is `WORLD_MODEL` if set, else the world's `companion.model` setting (`companion/set-model!`),
else its `evolve.model` setting, else evolution's default. Every call, answered or failed,
is recorded in the world's usage log (usage.py).
"""
from __future__ import annotations

import os
from typing import Any, Callable

from ..evolve.agent_errors import ModelError
from ..evolve.model import DEFAULT_MODEL, MODEL_SETTING, Model, Reply
from ..lisp import budget
from ..lisp.errors import EvalError
from . import usage

SETTING = "companion.model"
ENV = "WORLD_MODEL"
NO_KEY = ("ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=sk-ant-... to use the companion "
          "(explain, document!, suggest, ,ask); ANTHROPIC_BASE_URL points it at another endpoint")
OPTIONS: dict[str, Any] = {"retries": 3, "backoff": 1.0, "max_tokens": 1500, "timeout": 120.0}
MIN_TIMEOUT = 5.0       # seconds: a call never gets less, even late in a form's time budget


class CompanionError(EvalError):
    """A companion form cannot do what it was asked: no key, the model failed, a bad name."""

    kind = "companion"


def model_name(root: Any) -> str:
    """The model the companion asks (see the module docstring)."""
    settings = getattr(root, "settings", None) or {}
    return (os.environ.get(ENV) or settings.get(SETTING) or settings.get(MODEL_SETTING)
            or DEFAULT_MODEL)


def _timeout() -> float:
    """Seconds one HTTP call may take: what the running form's time budget leaves."""
    m = budget.running()
    if m is None:
        return OPTIONS["timeout"]
    import time
    return max(MIN_TIMEOUT, min(OPTIONS["timeout"], m.deadline - time.monotonic()))


def call(world: Any, who: str, asked: str, system: str, prompt: str,
         on_text: Callable[[str], Any] | None = None) -> Reply:
    """Ask the model (streaming each piece of text to `on_text` if given); record the cost.
    A missing key or a failed call is a CompanionError of one line naming `who`."""
    if not os.environ.get("ANTHROPIC_API_KEY"):
        raise CompanionError(f"{who}: {NO_KEY}")
    model = Model(model_name(world.image.root), timeout=_timeout(), retries=OPTIONS["retries"],
                  backoff=OPTIONS["backoff"], max_tokens=OPTIONS["max_tokens"])
    try:
        reply = model.stream(system, prompt, on_text) if on_text is not None \
            else model.ask(system, prompt)
    except ModelError as e:
        if e.reply is not None:
            usage.record(world.image.db, who, asked, e.reply, "failed")
        raise CompanionError(f"{who}: {e.message}") from None
    reply.totals = usage.record(world.image.db, who, asked, reply)    # type: ignore[attr-defined]
    return reply


def spent(*replies: Reply) -> str:
    """One line on what calls used, and the world's running total after the last."""
    reply = replies[-1]
    calls = f"{len(replies)} calls: " if len(replies) > 1 else ""
    line = (f"{calls}{sum(r.tokens_in for r in replies):,} tokens in, "
            f"{sum(r.tokens_out for r in replies):,} out, "
            f"~${sum(r.cost for r in replies):.4f} ({reply.model})")
    totals = getattr(reply, "totals", None)
    if totals:
        line += f"; companion total ~${totals['dollars']:.4f} over {totals['calls']} calls"
    return line
