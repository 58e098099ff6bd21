"""Ablations: a run with one of the agent's faculties switched off.

Three run settings, each True by default and recorded with the run:

- `self_modify` (`--no-self-modify`): my-eval stays the evaluator the lineage
  was seeded with. In a lineage's cells `extend-eval!`, `edit-eval!`,
  `eval-rollback!` and `defnative!` are refused with one line (the names are
  bound to refusals in the lineage's environment, so an alias, a helper or a
  symbol built at run time is refused too), and the prompts no longer
  advertise them. Reflection, if on, may still define helpers.
- `reflection` (`--no-reflection`): no reflection phase between rounds (so
  no reflection bonus either).
- `metacognition` (`--no-metacognition`): a cell takes plain code and
  `(done expr)` only; the scratchpad's metacognitive forms (`goal`, `note`,
  `try`, `check`, `sub`, `show-env`, `with-limit`) are refused with one line
  and cost one step, like a malformed one. The system prompt does not offer
  them, and a problem's prompt shows neither the scratchpad's history nor
  notes from earlier failed attempts: only the results of the previous
  reply's forms (what the evaluator said back), under "Results of your last
  reply".
"""
from __future__ import annotations

from typing import Any, Callable

from ..lisp.errors import EvalError
from ..lisp.primitives import primitive
from ..lisp.types import Primitive, Symbol

FLAGS = {"self_modify": "--no-self-modify", "reflection": "--no-reflection",
         "metacognition": "--no-metacognition"}
SELF_MODIFY = {"extend-eval!": "extend-eval!", "edit-eval!": "edit-eval!",
               "eval-rollback!": "eval-rollback!", "evolve/defnative!": "defnative!"}
METACOGNITIVE = ("goal", "note", "show-env", "try", "check", "sub", "with-limit")
REFUSED = "evolve/self-modify-off:"     # prefix of the refusing primitives' names


class Ablated(EvalError):
    """A form this run's ablations switched off."""

    kind = "refused"


def on(settings: dict[str, Any] | None, flag: str) -> bool:
    """Whether faculty `flag` is on in a run's settings (a run from before ablations: yes)."""
    return bool((settings or {}).get(flag, True))


def off(settings: dict[str, Any] | None) -> list[str]:
    """The ablations of a run, as their command-line flags (empty: none)."""
    return [opt for flag, opt in FLAGS.items() if not on(settings, flag)]


def self_modify_refusal(name: str) -> Ablated:
    """The one-line error of a self-modifying form in a run without self-modification."""
    return Ablated(f"{name}: self-modification is off in this run (--no-self-modify): "
                   f"my-eval stays as it is; solve with plain definitions")


def metacognition_refusal(name: str) -> Ablated:
    """The one-line error of a metacognitive form in a run without metacognition."""
    return Ablated(f"{name}: metacognitive forms are off in this run (--no-metacognition): "
                   f"send plain code and (done expr)")


def _refuser(name: str, shown: str) -> Callable[..., Any]:
    def refuse(*args: Any) -> Any:
        raise self_modify_refusal(shown)
    refuse.__name__ = "refuse_" + shown.replace("-", "_").replace("!", "")
    refuse.__doc__ = f"({REFUSED}{name} ...) refuses: {shown} is off in this run."
    return refuse


# Registered (never granted: "internal") so that a lineage that stored one, say
# `(define f extend-eval!)`, pickles it by name like any primitive.
for _name, _shown in SELF_MODIFY.items():
    primitive(REFUSED + _name, group="internal")(_refuser(_name, _shown))


def apply(world: Any, settings: dict[str, Any] | None) -> None:
    """Bind the self-modifying primitives of a lineage's world to refusals if the run
    has self-modification off (per open, never stored: the lineage's own definitions
    are untouched)."""
    if on(settings, "self_modify"):
        return
    env = world.env
    for name in SELF_MODIFY:
        sym = Symbol(name)
        # only the granted primitive: a lineage's own definition of the name is its business
        if env.is_bound(sym) and env.lookup(sym) is Primitive.registry[name]:
            env.define(sym, Primitive.registry[REFUSED + name])


# ---------------------------------------------------------------- what the prompts say

SELF_MODIFY_HEADS = ("(extend-eval!", "(edit-eval!", "(eval-rollback!", "(defnative!")
META_HEADS = tuple(f"({f}" for f in METACOGNITIVE)
SCRATCHPAD_HEADER = "## Scratchpad so far\n"
LAST_REPLY_HEADER = "## Results of your last reply\n"
NO_CHANGE_NOTE = 'send (note "...") if you want no change.'


def system_text(text: str, settings: dict[str, Any] | None) -> str:
    """The system prompt's rules without the forms this run switched off, and a line saying
    which are off. An entry is an indented line starting with `(`; its continuation lines
    (indented further, not starting with `(`) go with it."""
    drop: tuple[str, ...] = ()
    if not on(settings, "self_modify"):
        drop += SELF_MODIFY_HEADS
        text = text.replace(_handler_api(), "")     # how to write handlers: moot
    if not on(settings, "metacognition"):
        drop += META_HEADS
    if not drop:
        return text
    out, dropping = [], False
    for line in text.split("\n"):
        body = line.lstrip()
        if line.startswith("  ") and body.startswith("("):
            dropping = body.startswith(drop)
        elif not line.startswith("  ") or not body:
            dropping = False
        if not dropping:
            out.append(line)
    notes = []
    if not on(settings, "self_modify"):
        notes.append("my-eval cannot be changed in this run: extend-eval!, edit-eval!, "
                     "eval-rollback! and defnative! are refused.")
    if not on(settings, "metacognition"):
        notes.append("Only plain code and (done expr) are evaluated in this run: "
                     + ", ".join(METACOGNITIVE) + " are refused.")
    return "\n".join(out).rstrip("\n") + "\n" + "\n".join(notes) + "\n"


def _handler_api() -> str:
    try:
        from . import handler_api
    except ImportError:         # a release without it
        return "\0"
    return handler_api.text()


def shown_cells(cells: Any, settings: dict[str, Any] | None, since: int) -> list[Any]:
    """The cells a problem prompt shows: all of them, or without metacognition only those
    the previous reply made (from number `since` on)."""
    cells = list(cells)
    return cells if on(settings, "metacognition") else cells[since:]


def shown_failures(failures: list[str], settings: dict[str, Any] | None) -> list[str]:
    """Notes from earlier failed attempts, unless the run has no metacognition."""
    return failures if on(settings, "metacognition") else []


def problem_text(prompt: str, settings: dict[str, Any] | None) -> str:
    """A problem prompt, its scratchpad section renamed when it holds only the last reply's cells."""
    if on(settings, "metacognition"):
        return prompt
    return prompt.replace(SCRATCHPAD_HEADER, LAST_REPLY_HEADER, 1)


def reflection_text(prompt: str, settings: dict[str, Any] | None, budget: int) -> str:
    """A reflection prompt as the run's ablations have it: without self-modification its
    head (up to the first section) says to define helpers instead of evolving my-eval;
    without metacognition, no change is sent as no forms rather than a note."""
    if on(settings, "self_modify") and on(settings, "metacognition"):
        return prompt
    cut = prompt.find("\n## ")
    head, rest = (prompt, "") if cut < 0 else (prompt[:cut + 1], prompt[cut + 1:])
    if not on(settings, "self_modify"):
        forms = (settings or {}).get("max_forms", 5)
        head = (head.split("\n", 1)[0] + "\n"
                f"Next round: budget {budget} steps per problem.\n"
                "Changing my-eval is off in this run (extend-eval!, edit-eval!, eval-rollback! and "
                "defnative! are refused): you may define helpers for the next round.\n"
                f"Send at most {forms} forms; {NO_CHANGE_NOTE}\n")
    if not on(settings, "metacognition"):
        head = head.replace(NO_CHANGE_NOTE, "send no forms if you want no change.")
    return head + rest
