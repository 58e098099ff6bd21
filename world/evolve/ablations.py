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


def _refuser(shown: str) -> Callable[..., Any]:
    def refuse(*args: Any) -> Any:
        raise self_modify_refusal(shown)
    refuse.__name__ = "refuse_" + shown.replace("-", "_").replace("!", "").replace("/", "_")
    refuse.__doc__ = f"({REFUSED}{shown} ...) refuses: {shown} is off in this run."
    return refuse


# Registered (never granted: "internal") so that a lineage that stored one, say
# `(define f extend-eval!)`, pickles it by name like any primitive.
for _name, _shown in SELF_MODIFY.items():
    primitive(REFUSED + _name, group="internal")(_refuser(_shown))


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
