"""`(message/sign FORM ...)` and `(message/verify MSG)`: signed messages from Lisp.

Signing uses the host's private key, so only a session granted `host` may
sign; verifying is pure computation over its argument (`core`), charged by
the size of what it hashes and reads.
"""
from __future__ import annotations

from typing import Any

from ..lisp import budget
from ..lisp.errors import LispTypeError
from ..lisp.primitives import primitive
from ..lisp.types import Keyword
from . import message

SIGN_OPTIONS = ("caps", "steps", "to")


def _options(who: str, opts: tuple) -> dict[str, Any]:
    if len(opts) % 2:
        raise LispTypeError(f"{who}: options come in pairs, :key value")
    out: dict[str, Any] = {}
    for k, v in zip(opts[::2], opts[1::2]):
        if type(k) is not Keyword or k.name not in SIGN_OPTIONS:
            raise LispTypeError(f"{who}: unknown option; expected :{' :'.join(SIGN_OPTIONS)}")
        out[k.name] = v
    return out


@primitive("message/sign", group="host")
def message_sign(form: Any, *opts: Any) -> Any:
    """(message/sign form [:steps n :caps [:core] :to "PUBKEY"]) -> a message map signed with
    this host's key: {:body "<canonical text>" :key "<public key>" :nonce n :sig "<signature>"}."""
    from .. import keys
    o = _options("message/sign", opts)
    try:
        signer = keys.signer()
    except keys.SigningKeyError as e:
        raise LispTypeError(f"message/sign: {e}") from None
    msg = message.sign(form, signer, **o)
    budget.charge(len(msg.get(Keyword("body"))) // 64 + 1)
    return msg


@primitive("message/verify")
def message_verify(msg: Any) -> Any:
    """(message/verify msg) -> the form a signed message carries, or an error if its signature
    does not hold over its exact body or the body does not read as one form."""
    body = msg.get(Keyword("body"), "") if hasattr(msg, "get") and type(msg) is not dict else ""
    budget.charge(len(body) // 64 + 1 if type(body) is str else 1)
    form, _ = message.verify(msg, max_depth=budget.limits().read_depth)
    return form
