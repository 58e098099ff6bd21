"""Cartridges: a paused evaluation as a signed, self-contained `.lispy.json` file.

A cartridge is a `world-suspension/1` (world/lisp/suspend.py) with the output
it has already delivered and, optionally, an Ed25519 signature. Its program
runs in a FRESH environment (capabilities `RUN_CAPS`, not the image), so the
environment's definitions are exactly what the program defines, and the
document holds everything needed to finish it in any process: evaluation is
deterministic, so resuming replays the program silently to the pause step
(checking that it delivers the same output on the way), then carries on.

The document (UTF-8 JSON, ASCII-escaped) is one object with exactly these keys:

    format        "world-cartridge/1"
    program       the program's text (every top-level form, as written)
    step          the step at which it paused (= steps used), from the program's start
    output        the output delivered before the pause
    limits        the `Limits` it ran under; a resume runs under the narrower of these
                  and the resumer's own
    capabilities  the groups it ran with; a resume grants only those the resumer grants too
    environment   the environment before the program ran (see suspend.py)
    signature     optional: {"key": K, "sig": S}, Ed25519 by key K (hex) over the
                  canonical JSON of every other key (sorted keys, no whitespace, ASCII)

Nothing in a cartridge is pickled or run as host code: its Lisp parts are
text, read by the reader and compiled by the sandbox's compiler. Anything
malformed, oversized, or signed but changed is refused with one CartridgeError.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any, Iterable

from ..keys import Signer, verify_signature
from ..lisp import budget
from ..lisp.budget import DEFAULT_LIMITS, Limits, Paused
from ..lisp.errors import EvalError, LispError, SandboxError
from ..lisp.suspend import Suspension, restore, snapshot
from ..lisp.suspend_check import FORMAT as SUSPENSION_FORMAT

FORMAT = "world-cartridge/1"
SUFFIX = ".lispy.json"
MAX_BYTES = 16 * 1024 * 1024            # one cartridge file
RUN_CAPS: tuple[str, ...] = ("cartridge", "core", "output", "simulate")
"""What a program run as a cartridge (`world run --pause-at`, `world cartridge run`) is granted."""
RESUME_CAPS: tuple[str, ...] = ("core", "output")
"""What `world cartridge resume` grants when the resumer names nothing."""
_KEYS = {"format", "program", "step", "output", "limits", "capabilities", "environment"}


class CartridgeError(EvalError):
    """A cartridge that cannot be written, read, trusted or resumed."""

    kind = "cartridge"


def refuse(why: str) -> CartridgeError:
    return CartridgeError(f"refused: {why}")


# ---------------------------------------------------------------- the document

@dataclass
class Cartridge:
    """A paused evaluation with the output it delivered, maybe signed."""

    susp: Suspension
    output: str
    key: str | None = None
    sig: str | None = None
    signed_bytes: bytes | None = None   # the canonical text as read, which the signature covers

    @property
    def step(self) -> int:
        return self.susp.step

    def body(self) -> dict[str, Any]:
        """Every field but the signature."""
        s = self.susp
        return {"format": FORMAT, "program": s.text, "step": s.step, "output": self.output,
                "limits": dataclasses.asdict(s.limits), "capabilities": list(s.caps),
                "environment": s.environment}

    def canonical(self) -> bytes:
        """What the signature covers."""
        return canonical(self.body())

    def signed(self, signer: Signer) -> "Cartridge":
        key, sig = signer(self.canonical())
        return Cartridge(self.susp, self.output, key, sig)

    def status(self) -> str:
        """"valid", "invalid" or "none": the signature's state."""
        if self.key is None:
            return "none"
        data = self.signed_bytes if self.signed_bytes is not None else self.canonical()
        return "valid" if verify_signature(self.key, self.sig, data) else "invalid"

    def to_text(self) -> str:
        doc = self.body()
        if self.key is not None:
            doc["signature"] = {"key": self.key, "sig": self.sig}
        return json.dumps(doc, sort_keys=True, ensure_ascii=True, indent=1) + "\n"

    def write(self, path: str) -> str:
        """Write the file atomically (a temporary file renamed over `path`); return `path`."""
        check_path(path)
        data = self.to_text().encode("ascii")
        folder = os.path.dirname(path) or "."
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise CartridgeError(f"cannot write {path}: {e.strerror or e}") from None
        return path


def canonical(doc: dict[str, Any]) -> bytes:
    """The canonical JSON of `doc`: sorted keys, no whitespace, ASCII."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def check_path(path: Any) -> str:
    if type(path) is not str or not path.endswith(SUFFIX) or len(path) <= len(SUFFIX):
        raise CartridgeError(f"a cartridge's file name ends in {SUFFIX}: {str(path)[:80]!r}")
    return path


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError("duplicate key")
    return d


def _parse_int(s: str) -> int:
    if len(s.lstrip("-")) > 30:
        raise ValueError("number too large")
    return int(s)


def _no_constant(s: str) -> Any:
    raise ValueError(f"{s} is not allowed")


def loads(data: bytes | str, verify: bool = True) -> Cartridge:
    """Parse and check a cartridge; with `verify`, a signature that does not verify is
    refused (without, `Cartridge.status()` tells). Nothing runs."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BYTES:
        raise refuse(f"file longer than {MAX_BYTES} bytes")
    try:
        text = bytes(data).decode("utf-8")
        doc = json.loads(text, object_pairs_hook=_pairs, parse_int=_parse_int,
                         parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise refuse("not UTF-8 text") from None
    except (ValueError, RecursionError, MemoryError) as e:
        line = (str(e).splitlines() or [type(e).__name__])[0][:160]
        raise refuse(f"not JSON ({line})") from None
    if type(doc) is not dict or doc.get("format") != FORMAT:
        fmt = doc.get("format") if type(doc) is dict else None
        raise refuse(f"format is {str(fmt)[:40]!r}, not {FORMAT!r}" if fmt is not None
                     else f"not a {FORMAT} document")
    sig = doc.pop("signature", None)
    if set(doc) != _KEYS:
        extra, missing = sorted(set(doc) - _KEYS), sorted(_KEYS - set(doc))
        raise refuse(f"unknown field {extra[0][:40]!r}" if extra else f"missing field {missing[0]!r}")
    key = s = signed_bytes = None
    if sig is not None:
        if type(sig) is not dict or set(sig) != {"key", "sig"} \
                or type(sig["key"]) is not str or type(sig["sig"]) is not str:
            raise refuse('signature is not {"key": K, "sig": S}')
        key, s = sig["key"], sig["sig"]
        signed_bytes = canonical(doc)
        if verify and not verify_signature(key, s, signed_bytes):
            raise refuse(f"the signature does not verify: changed after signing, or not signed "
                         f"by {key[:16]}...")
    output = doc["output"]
    if type(output) is not str:
        raise refuse("output is not a string")
    part = dict(doc, format=SUSPENSION_FORMAT, delivered=len(output))
    del part["output"]
    try:
        susp = Suspension.from_text(json.dumps(part))
    except SandboxError as e:
        raise refuse(e.message.removeprefix("suspension refused: ")) from None
    return Cartridge(susp, output, key, s, signed_bytes)


def load(path: str, verify: bool = True) -> Cartridge:
    """Read and check the cartridge file `path` (size-capped before it is read whole)."""
    import stat
    try:
        # O_NONBLOCK: a FIFO named as the cartridge must not hang us; fstat what is read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise CartridgeError(f"cannot read {path}: not a regular file")
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read(MAX_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as e:
        raise CartridgeError(f"cannot read {path}: {e.strerror or e}") from None
    return loads(data, verify)


# ---------------------------------------------------------------- running

@dataclass
class Leg:
    """What one run or resume produced: the new output, and a value or a new cartridge."""

    value: Any
    steps: int
    output: str
    paused: Cartridge | None = None


@dataclass
class _Context:
    """The running cartridge program, as `cartridge/save` sees it."""

    text: str
    state: dict[str, Any]
    caps: tuple[str, ...]
    limits: Limits
    out: list[str]
    replay: int                 # calls at or before this step were made before: not repeated
    may_write: bool
    signer: Signer | None
    ns: dict[str, Any] | None = None    # the namespace of the environment it runs in
    before: int = 0             # steps of the forms already run


_ACTIVE: _Context | None = None


def save_here(path: Any) -> str:
    """`(cartridge/save PATH)`: write the running cartridge program, paused here, to PATH."""
    budget.charge(1)            # so two saves in a row are at two different steps
    ctx, meter = _ACTIVE, budget.running()
    if ctx is None or meter is None or (meter.ns is not ctx.ns and meter.parent is None):
        raise CartridgeError("cartridge/save: only a program run as a cartridge (`world run FILE "
                             "--pause-at N`, `world cartridge run FILE`) can be saved; the image's "
                             "environment cannot be written as source")
    if meter.parent is not None:
        raise CartridgeError("cartridge/save: not inside a nested evaluation")
    step = ctx.before + meter.steps
    if step <= ctx.replay:
        return path             # replaying: this call wrote its cartridge in an earlier leg
    check_path(path)
    if not ctx.may_write:
        raise CartridgeError("cartridge/save: not granted to this resume (grant it with "
                             "--caps core,output,cartridge)")
    output = "".join(ctx.out)
    susp = Suspension(ctx.text, step, len(output), ctx.limits, ctx.caps, ctx.state)
    cart = Cartridge(susp, output)
    if ctx.signer is not None:
        cart = cart.signed(ctx.signer)
    with budget.uncharged():
        return cart.write(path)


def _drive(env: Any, ctx: _Context, pause_at: int | None) -> tuple[Any, int, bool]:
    """Run every form of the program: (value, steps, whether it paused)."""
    global _ACTIVE
    from ..lisp.reader import read_all
    from ..lisp.runtime import run
    value, steps = None, 0
    forms = read_all(ctx.text, max_depth=ctx.limits.read_depth)
    ctx.ns = env.ns
    _ACTIVE = ctx
    try:
        for form in forms:
            ctx.before = steps
            r = run(env, form, ctx.limits, pause_at=None if pause_at is None else pause_at - steps,
                    out=ctx.out)
            value, steps = r.value, steps + r.steps
    except Paused:
        return None, pause_at or 0, True
    finally:
        _ACTIVE = None
    return value, steps, False


def _ungranted(e: LispError, env: Any, asked: Iterable[str], mine: set[str] | None) -> LispError:
    """An unbound primitive explained: which group holds it, and who did not grant it."""
    from ..lisp.errors import UnboundVariable
    from ..lisp.primitives import GROUPS
    from ..lisp.types import Primitive
    name = e.name() if isinstance(e, UnboundVariable) else None
    if name is None or name not in Primitive.registry or name in env.granted:
        return e
    groups = sorted(g for g, names in GROUPS.items() if name in names and g != "internal")
    if not groups:
        return e
    g = groups[0]
    if mine is None:
        why = f"a cartridge program is granted only {', '.join(RUN_CAPS)}"
    elif g in asked:
        why = f"this resume does not grant it (add it: --caps {','.join(sorted(mine | {g}))})"
    else:
        why = "the cartridge was never granted it"
    err = CartridgeError(f"{name} is in the group {g}: {why}", e.loc, e.source)
    err.backtrace = e.backtrace
    return err


def _pause_step(pause_at: int | None, after: int = 0) -> None:
    if pause_at is not None and (type(pause_at) is not int or pause_at <= after):
        raise CartridgeError(f"the pause step must be after step {after}, not {pause_at}")


def run(text: str, limits: Limits = DEFAULT_LIMITS, pause_at: int | None = None,
        signer: Signer | None = None, out: list[str] | None = None) -> Leg:
    """Run `text` in a fresh cartridge environment; pause at step `pause_at` if it gets there.

    `out` (if given) receives the output as it is produced, also when the program fails.
    """
    from ..lisp.env import Environment
    _pause_step(pause_at)
    env = Environment(RUN_CAPS, limits)
    ctx = _Context(text, snapshot(env), RUN_CAPS, env.limits, out if out is not None else [],
                   -1, True, signer)
    try:
        value, steps, paused = _drive(env, ctx, pause_at)
    except LispError as e:
        raise _ungranted(e, env, RUN_CAPS, None) from None
    output = "".join(ctx.out)
    if not paused:
        return Leg(value, steps, output)
    cart = Cartridge(Suspension(text, steps, len(output), env.limits, RUN_CAPS, ctx.state), output)
    return Leg(None, steps, output, cart.signed(signer) if signer is not None else cart)


def resume(cart: Cartridge, caps: Iterable[str] | None = None, limits: Limits | None = None,
           pause_at: int | None = None, signer: Signer | None = None,
           out: list[str] | None = None) -> Leg:
    """Finish `cart` with at most its and the resumer's capabilities and limits; the Leg's
    output is what was not delivered before. With `pause_at`, it may pause again."""
    mine = set(RESUME_CAPS if caps is None else caps)
    _pause_step(pause_at, cart.step)
    # `cartridge/save` stays bound so a replay passes the calls it made before; writing
    # anew needs the resumer's grant.
    try:
        env = restore(cart.susp, sorted(mine | {"cartridge"}), limits)
    except SandboxError as e:
        raise refuse(e.message.removeprefix("suspension refused: ")) from None
    grants = tuple(sorted(env.caps))
    ctx = _Context(cart.susp.text, cart.susp.environment, grants, env.limits, [], cart.step,
                   "cartridge" in mine, signer)
    delivered = len(cart.output)
    try:
        value, steps, paused = _drive(env, ctx, pause_at)
    except LispError as e:
        output = "".join(ctx.out)
        if out is not None and output[:delivered] == cart.output:
            out.append(output[delivered:])      # what it printed before failing
        raise _ungranted(e, env, cart.susp.caps, mine) from None
    output = "".join(ctx.out)
    if output[:delivered] != cart.output:
        raise refuse("replaying the program does not deliver the cartridge's output")
    if not paused and steps < cart.step:
        raise refuse(f"the program ends at step {steps}, before its pause at step {cart.step}")
    if paused:
        again = Cartridge(Suspension(cart.susp.text, steps, len(output), env.limits, grants,
                                     cart.susp.environment), output)
        return Leg(None, steps, output[delivered:],
                   again.signed(signer) if signer is not None else again)
    return Leg(value, steps, output[delivered:])


__all__ = ["FORMAT", "SUFFIX", "MAX_BYTES", "RUN_CAPS", "RESUME_CAPS", "Cartridge",
           "CartridgeError", "Leg", "canonical", "check_path", "load", "loads", "run", "resume",
           "save_here"]
