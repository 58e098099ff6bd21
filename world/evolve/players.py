"""Who answers the prompts: a model, the reference player, or a replay.

Every player has `label` (shown everywhere the run is) and
`reply(key, system, prompt, context) -> Reply`. `key` names the prompt
within the run (generation, lineage, round, problem, turn), so a recorded
run replays deterministically even when its lineages ran in parallel.

- `ModelPlayer` asks a `Model`; each reply can be recorded to a JSON-lines
  file (`Recorder`), one object per reply, after a header naming the run.
- `ReferencePlayer` plays the pool's reference solutions: it exercises the
  harness, it is not a model, and its label says so. Asked for adversarial
  problems it proposes ones derived from pool problems (world/evolve/adversary.py).
- `ReplayPlayer` answers from a recorded file, by key.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from typing import Any

from ..lisp.reader import read_spans
from .agent_errors import EvolveError, ReplayMissing
from .model import Model, Reply

GAVE_UP = "gave_up"         # a reply's stop reason when the player has nothing more to try
REFERENCE_LABEL = "reference (the pool's reference solutions; not a model)"


def prompt_hash(system: str, prompt: str) -> str:
    """What a recorded reply answered: a hash of the system prompt and the prompt."""
    return hashlib.sha256(f"{system}\0{prompt}".encode("utf-8")).hexdigest()


class Recorder:
    """Appends every reply of a run to a JSON-lines file."""

    def __init__(self, path: str, header: dict[str, Any]) -> None:
        self.path = path
        self.lock = threading.Lock()
        fresh = not os.path.exists(path) or os.path.getsize(path) == 0
        try:
            self.f = open(path, "a", encoding="utf-8")
        except OSError as e:
            raise EvolveError(f"cannot record replies to {path}: {e.strerror}") from None
        if fresh:
            self._write({"header": header})

    def _write(self, obj: dict[str, Any]) -> None:
        with self.lock:
            self.f.write(json.dumps(obj, sort_keys=True) + "\n")
            self.f.flush()
            os.fsync(self.f.fileno())

    def record(self, key: str, reply: Reply, prompt_hash: str = "") -> None:
        """Append one reply under `key`, with the hash of the prompt it answers."""
        self._write({"key": key, "prompt": prompt_hash, "model": reply.model, "text": reply.text,
                     "stop_reason": reply.stop_reason,
                     "calls": [a.as_dict() for a in reply.attempts]})

    def close(self) -> None:
        self.f.close()


class ModelPlayer:
    """A Messages-API model."""

    kind = "model"

    def __init__(self, model: Model) -> None:
        self.model = model

    @property
    def label(self) -> str:
        return self.model.label

    def reply(self, key: str, system: str, prompt: str, context: dict[str, Any]) -> Reply:
        """Ask the model."""
        return self.model.ask(system, prompt)


class Recorded:
    """Any player, with each of its replies appended to a replay file."""

    def __init__(self, player: Any, recorder: Recorder) -> None:
        self.player, self.recorder = player, recorder
        self.kind, self.label = player.kind, player.label

    def reply(self, key: str, system: str, prompt: str, context: dict[str, Any]) -> Reply:
        """The player's reply, recorded."""
        reply = self.player.reply(key, system, prompt, context)
        self.recorder.record(key, reply, prompt_hash(system, prompt))
        return reply


class ReferencePlayer:
    """Plays each problem's reference solution, then `(done call)`; changes nothing in reflection."""

    kind = "reference"
    label = REFERENCE_LABEL

    def __init__(self, per_reply: int = 5) -> None:
        self.per_reply = per_reply

    def reply(self, key: str, system: str, prompt: str, context: dict[str, Any]) -> Reply:
        """The reference solution then `(done call)`, a few forms a turn; then a note."""
        task = context.get("task")
        if context.get("adversary"):            # a deterministic stand-in for a proposing model
            from .adversary import reference_reply
            return Reply(reference_reply(context), "reference", [], "end_turn")
        if task is None:
            text = '(note "the reference player leaves the evaluator as it is")'
        else:
            ref = task.solution_text()
            forms = [ref[a:b] for _, a, b in read_spans(ref, f"<reference {task.id}>")]
            forms.append(f"(done {task.call_text})")
            n = context.get("turn", 0) * self.per_reply
            chunk = forms[n:n + self.per_reply]
            if not chunk:
                return Reply('(note "the reference player has no other answer")', "reference",
                             [], GAVE_UP)
            text = "\n".join(chunk)
        return Reply(text, "reference", [], "end_turn")


class ReplayPlayer:
    """Answers with the replies recorded under the same keys."""

    kind = "replay"

    def __init__(self, path: str) -> None:
        self.path = path
        self.header: dict[str, Any] = {}
        self.replies: dict[str, dict[str, Any]] = {}
        self.by_prompt: dict[str, list[dict[str, Any]]] = {}
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
        except OSError as e:
            raise EvolveError(f"cannot read the replay file {path}: {e.strerror}") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                if n == len(lines):
                    break           # a last line cut short by a crash
                raise EvolveError(f"{path}:{n}: not a replay record (bad JSON)") from None
            if "header" in obj:
                self.header = obj["header"]
            elif "key" in obj:
                self.replies[obj["key"]] = obj
                if obj.get("prompt"):
                    self.by_prompt.setdefault(obj["prompt"], []).append(obj)
        if not self.replies:
            raise EvolveError(f"{path} holds no recorded replies")
        self.label = f"replay of {os.path.basename(path)} ({self.header.get('agent', 'unknown')})"

    def reply(self, key: str, system: str, prompt: str, context: dict[str, Any]) -> Reply:
        """The reply recorded for this prompt under `key` (or, if the keys were renamed, the
        one recorded for this very prompt); a different prompt under `key` is a diverged run."""
        r = self.replies.get(key)
        h = prompt_hash(system, prompt)
        if r is None or r.get("prompt", h) != h:
            same = self.by_prompt.get(h, [])
            if same:            # the same prompt may come twice: each recorded reply once, in order
                r = same.pop(0) if len(same) > 1 else same[0]
            elif r is None:
                raise ReplayMissing(f"{self.path} has no reply for {key}: replay with the "
                                    f"settings of the recorded run")
            else:
                raise ReplayMissing(f"{self.path}: the prompt for {key} differs from the "
                                    f"recorded one: the run diverged (other settings, problems "
                                    f"or code); replay with the settings of the recorded run")
        # A replay calls no model: it spends nothing (the recorded usage stays in the file).
        return Reply(r["text"], r.get("model", "replay"), [], r.get("stop_reason", ""))


def make_player(spec: str, model: str, record: str | None = None,
                header: dict[str, Any] | None = None, **model_kw: Any) -> Any:
    """The player `--agent SPEC` names: `model` (default), `reference` or `replay:FILE`."""
    if spec == "reference":
        player: Any = ReferencePlayer()
    elif spec.startswith("replay:"):
        player = ReplayPlayer(spec[len("replay:"):])
    elif spec in ("model", "anthropic", ""):
        player = ModelPlayer(Model(model, **model_kw))
    else:
        raise EvolveError(f"unknown agent {spec!r}: use model, reference or replay:FILE")
    if record:
        player = Recorded(player, Recorder(record, dict(header or {}, agent=player.label)))
    return player
