"""`(peer/send ADDRESS 'FORM :steps N ...)`: run a program at another world (group `net`).

The form is signed with the host's key (world/keys.py) and sent to the peer
(world/peer/client.py); the value that comes back is data, read with the
running evaluation's reader limits. Signing, sending and reading are charged
to the evaluation by size. The wait for the network runs in a helper thread
while the evaluation thread waits in short slices, so the evaluation's time
budget and Ctrl-C stop it (the watchdog's stop lands between slices, and the
helper then gives up its connection).
"""
from __future__ import annotations

import threading
import time
from typing import Any

from ..lisp import budget
from ..lisp.errors import LispTypeError, MessageError
from ..lisp.primitives import primitive
from ..lisp.types import Keyword
from . import client

OPTIONS = ("steps", "caps", "tls", "timeout", "peer")
SLICE = 0.05            # seconds between the evaluation thread's looks while the network works
BASE_STEPS = 100        # a send costs at least this, whatever its size
DEADLINE_GRACE = 1.0    # the watchdog's time error comes first; this is only a backstop


def _options(opts: tuple) -> dict[str, Any]:
    if len(opts) % 2:
        raise LispTypeError("peer/send: options come in pairs, :key value")
    out: dict[str, Any] = {}
    for k, v in zip(opts[::2], opts[1::2]):
        if type(k) is not Keyword or k.name not in OPTIONS:
            raise LispTypeError(f"peer/send: unknown option; expected :{' :'.join(OPTIONS)}")
        out[k.name] = v
    if "steps" in out and (type(out["steps"]) is not int or out["steps"] < 0):
        raise LispTypeError("peer/send: :steps expects a non-negative integer")
    if "tls" in out and type(out["tls"]) is not str:
        raise LispTypeError("peer/send: :tls expects the directory `world tls-init` made, "
                            "as a string")
    if "peer" in out:
        from .. import keys
        try:
            out["peer"] = keys.normal_public_key(out["peer"])
        except keys.SigningKeyError as e:
            raise LispTypeError(f"peer/send: :peer expects the peer's public key: {e}") from None
    t = out.get("timeout")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))
                          or not 0 < t <= 3600):
        raise LispTypeError("peer/send: :timeout expects seconds, above 0 and at most 3600")
    return out


@primitive("peer/send", group="net")
def peer_send(address: Any, form: Any, *opts: Any) -> Any:
    """(peer/send "ws://HOST:PORT" 'form [:steps n :caps [:core] :tls "DIR" :timeout s :peer "KEY"])
    -> the value the peer's sandboxed run of form returns, signed with this host's key (with
    :peer, sent to that key alone, and only a reply it signed is taken)."""
    from .. import keys
    o = _options(opts)
    if type(address) is not str:
        raise LispTypeError("peer/send: the address is a string such as \"ws://127.0.0.1:8200\"")
    tls_dir = o.get("tls")
    client.uri(address, tls_dir)                     # a bad address fails before any signing
    try:
        signer = keys.signer()
    except keys.SigningKeyError as e:
        raise MessageError(f"peer/send: {e}") from None
    peer = o.get("peer")
    frame, nonce = client.request(form, signer, steps=o.get("steps"), caps=o.get("caps"), to=peer)
    budget.charge(BASE_STEPS + len(frame) // 64)
    reply = _exchange(address, frame, tls_dir, float(o.get("timeout", client.TIMEOUT)))
    budget.charge(len(reply) // 64)
    budget.alloc(2 * len(reply))
    try:
        return client.value_of(address, reply, nonce, peer=peer,
                               max_depth=budget.limits().read_depth)
    except MessageError as e:           # the peer's verdict, named like every other failure
        raise MessageError(f"peer/send: {e.message}") from None


def _exchange(address: str, frame: str, tls_dir: str | None, timeout: float) -> str:
    """`client.exchange` in a helper thread, waited for in slices that a stop can cut."""
    m = budget.running()
    if m is not None:       # past the evaluation's deadline the watchdog stops it: wait no longer
        timeout = max(0.001, min(timeout, m.deadline - time.monotonic() + DEADLINE_GRACE))
    cancel = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["reply"] = client.exchange(address, frame, tls_dir=tls_dir, timeout=timeout,
                                           cancel=cancel)
        except BaseException as e:          # handed to the evaluation thread below
            box["error"] = e

    helper = threading.Thread(target=work, name="world-peer-send", daemon=True)
    helper.start()
    try:
        while helper.is_alive():
            helper.join(SLICE)
    except BaseException:
        cancel.set()            # stopped (time, Ctrl-C): the helper drops its connection
        raise
    if "error" in box:
        e = box["error"]
        if isinstance(e, MessageError):
            raise MessageError(f"peer/send: {e.message}") from None
        raise MessageError(f"peer/send: {address}: {type(e).__name__}: {e}") from None
    return box["reply"]
