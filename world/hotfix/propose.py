"""Asking the model for a hot fix: the prompt, the call, and what a reply may propose.

The prompt holds the report (message, Lisp backtrace, the involved
definitions as production runs them) and, for each involved name, its
source in development, its recent history and its recorded checks. The
reply's Lisp is taken with world/evolve/extract.py (prose is never read as
code); a proposal is only `define`/`defmacro` forms of the names the report
involves: a reply redefining anything else, or holding any other form, is
refused whole. Nothing here evaluates the proposal: `(hotfix/accept ID)` does,
when a person says so.
"""
from __future__ import annotations

import difflib
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..evolve.extract import extract
from ..lisp.errors import EvalError
from ..lisp.types import Pair, Symbol

NO_KEY = ("ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=sk-ant-... (and "
          "ANTHROPIC_BASE_URL for another endpoint) to ask a model for a fix")
DEFINERS = ("define", "defmacro")
HISTORY = 5             # versions of each name shown to the model
MAX_FORMS = 10
SLICE = 0.05            # seconds between the evaluation thread's looks while the model works
RETRIES = 2

SYSTEM = """You fix bugs in a live Lisp world (a Scheme with keywords, maps {:k v}, vectors [..]).
Production reported an error. Propose the smallest change that fixes it: redefine ONLY the
involved definitions named below, each as one complete (define ...) form, keeping their
signatures, so that the recorded checks still pass. Reply with the new definitions in one
```lisp code block and at most two sentences of explanation. Do not define anything else."""


class ProposalRefused(EvalError):
    """A model's reply proposes something a hot fix may not be."""

    kind = "hotfix"


@dataclass
class Proposal:
    """What a model proposed: the forms' text, the names they redefine, its diff and cost."""

    text: str
    names: tuple[str, ...]
    diff: str
    model: str
    cost: float


def prompt(report: Any, dev: dict[str, dict[str, Any]]) -> str:
    """The user prompt for `report`; `dev` maps each involved name to {source, history, checks}."""
    lines = [f"Production error: {report.message}", "", "Backtrace (innermost first):"]
    lines += [f"  {b}" for b in report.backtrace] or ["  (none)"]
    for name, source, state, commit in report.definitions:
        info = dev.get(name, {})
        lines += ["", f"== {name}", "As production runs it (commit "
                  f"{commit[:12] or 'unknown'}):", source or "(no source)"]
        if info.get("source") and info["source"] != source:
            lines += ["As development has it now:", info["source"]]
        hist = info.get("history") or []
        if hist:
            lines.append(f"Its last {len(hist)} versions in development, newest first:")
            lines += [f"  {cid} {kind}: {text}" for cid, kind, text in hist]
        checks = info.get("checks") or []
        lines.append("Recorded checks (each must still pass):" if checks else
                     "No checks are recorded against it.")
        lines += [f"  {c}" for c in checks]
    lines += ["", f"Redefine only: {', '.join(report.names) or '(none)'}."]
    return "\n".join(lines)


def ask(model_name: str, system: str, text: str, seconds: float) -> Any:
    """The model's reply (world/evolve/model.py), waited for in slices a stop can cut."""
    from ..evolve.agent_errors import EvolveError
    from ..evolve.model import Model
    if not os.environ.get("ANTHROPIC_API_KEY"):
        raise EvalError(f"hotfix/propose: {NO_KEY}")
    try:
        model = Model(model_name, timeout=max(1.0, seconds), retries=RETRIES, backoff=0.5)
    except EvolveError as e:
        raise EvalError(f"hotfix/propose: {e.message}") from None
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["reply"] = model.ask(system, text)
        except BaseException as e:         # handed to the evaluation thread below
            box["error"] = e

    helper = threading.Thread(target=work, name="world-hotfix-propose", daemon=True)
    helper.start()
    deadline = time.monotonic() + seconds
    while helper.is_alive():
        helper.join(SLICE)                 # the evaluation's stop (time, Ctrl-C) lands here
        if time.monotonic() > deadline + 5:
            raise EvalError("hotfix/propose: the model did not answer in time")
    if "error" in box:
        e = box["error"]
        if isinstance(e, EvolveError):
            raise EvalError(f"hotfix/propose: {e.message}") from None
        raise EvalError(f"hotfix/propose: {type(e).__name__}: {e}") from None
    return box["reply"]


def defined_name(form: Any) -> str | None:
    """The name a `(define NAME ...)`, `(define (NAME ...) ...)` or defmacro form defines."""
    if type(form) is not Pair or type(form.car) is not Symbol or form.car.name not in DEFINERS:
        return None
    rest = form.cdr
    if type(rest) is not Pair:
        return None
    target = rest.car
    while type(target) is Pair:            # (define ((f a) b) ...) curries: its name is f
        target = target.car
    return target.name if type(target) is Symbol else None


def proposal(reply_text: str, involved: tuple[str, ...], current: dict[str, str],
             model: str, cost: float) -> Proposal:
    """The fix a reply proposes, if it only redefines `involved` names; ProposalRefused else.
    `current` maps each name to its source in development, for the diff."""
    got = extract(reply_text, MAX_FORMS)
    if not got.forms:
        raise ProposalRefused(f"hotfix/propose: the model proposed no definition "
                              f"({got.feedback() or 'its reply held no Lisp'})")
    pieces: list[tuple[str, str]] = []
    for form, text in got.forms:
        name = defined_name(form)
        if name is None:
            raise ProposalRefused(f"hotfix/propose: refused: the reply holds "
                                  f"{' '.join(text.split())[:60]}, which is not a definition; "
                                  f"a fix only redefines {', '.join(involved)}")
        if name not in involved:
            raise ProposalRefused(f"hotfix/propose: refused: the reply redefines {name}, which "
                                  f"the report does not involve (only {', '.join(involved)})")
        pieces.append((name, text.strip()))
    names = tuple(dict.fromkeys(n for n, _ in pieces))
    return Proposal("\n\n".join(t for _, t in pieces) + "\n", names,
                    diff(pieces, current), model, cost)


def diff(pieces: list[tuple[str, str]], current: dict[str, str]) -> str:
    """A unified diff from each name's development source to the proposed one."""
    out: list[str] = []
    for name, text in pieces:
        old = current.get(name, "")
        a = old.splitlines(keepends=True) if old else []
        b = text.splitlines(keepends=True)
        out += [x if x.endswith("\n") else x + "\n" for x in difflib.unified_diff(
            a, b, f"{name}@development" if old else "/dev/null", f"{name}@proposed")]
    return "".join(out)


__all__ = ["NO_KEY", "Proposal", "ProposalRefused", "SYSTEM", "ask", "defined_name", "diff",
           "prompt", "proposal"]
