"""Signed Lisp messages: canonical text, Ed25519 signatures, nonces.

A message is a map

    {:body "<canonical text of a form>" :key "<public key>" :nonce N :sig "<signature>"}

with, optionally, signed extras: `:caps [...]` and `:steps N` (what the
sender asks a peer to grant the program), `:re N` (the nonce a reply
answers) and `:to "<public key>"` (the one peer it is meant for).

Canonical text is the printer's: map keys sorted, one spelling per value,
and a fixed point (`write(read(text)) == text`), so two worlds that agree
on a value agree on its bytes. The signature covers the domain tag
`world-message/1` and the canonical text of the whole map without `:sig`,
which holds the body's exact characters; verifying checks those bytes
first and only then reads the body, with the reader's limits, into exactly
one form. Nothing here is pickle or JSON: a frame on the wire is the
canonical text of the message map itself, read back by the same reader,
which refuses a map naming a key twice.

Nonces are microseconds since the epoch, strictly increasing within a
process; a receiver accepts one within WINDOW seconds of its own clock and
remembers those it has seen (world/peer/store.py), so a message cannot be
replayed, and an old one cannot be kept for later.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from .. import keys
from ..lisp.errors import LispError, MessageError
from ..lisp.printer import write
from ..lisp.reader import read_all
from ..lisp.types import Keyword, LispMap

FORMAT = "world-message/1"
MAX_FRAME = 1 << 20             # characters of one frame's text (and so of one body)
WINDOW = 300.0                  # seconds a nonce is valid either side of the receiver's clock
FRAME_DEPTH = 8                 # a message map nests a vector of caps at most
MAX_CAPS = 16
MAX_INT = (1 << 63) - 1         # nonces, steps and reply references are 63-bit counts
DEFAULT_DEPTH = 1_000           # nesting a body may have (the reader's default)

REQUIRED = ("body", "key", "nonce", "sig")
OPTIONAL = ("caps", "re", "steps", "to")
_K = {name: Keyword(name) for name in REQUIRED + OPTIONAL}


@dataclass(frozen=True)
class Header:
    """What a verified message says besides its body."""

    key: str                            # the signer's public key, 64 hex digits
    nonce: int
    caps: tuple[str, ...] | None = None     # capability groups asked for, if any
    steps: int | None = None            # step budget asked for, if any
    re: int | None = None               # the nonce this message answers
    to: str | None = None               # the one peer it is for


# ---------------------------------------------------------------- canonical text

def canonical(form: Any) -> str:
    """The printer's text of `form`, if it is data that reads back to the same text.

    A procedure, a box, a record or anything else without a readable
    spelling is refused: only data crosses between worlds.
    """
    text = write(form)
    try:
        again = read_all(text, max_depth=DEFAULT_DEPTH)
    except LispError as e:
        if "nesting deeper" in e.message:
            raise MessageError(f"only data that reads back can be sent, and "
                               f"{_abridged(text)} is nested deeper than {DEFAULT_DEPTH}") from None
        again = None
    if again is None or len(again) != 1 or write(again[0]) != text:
        raise MessageError(f"only data can be sent, and {_abridged(text)} is not data "
                           f"(it holds a procedure or another object with no written form)")
    return text


def _abridged(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n] + "..."


# ---------------------------------------------------------------- nonces

_last = 0
_lock = threading.Lock()


def new_nonce() -> int:
    """Microseconds since the epoch, strictly increasing in this process."""
    global _last
    with _lock:
        _last = max(time.time_ns() // 1000, _last + 1)
        return _last


# ---------------------------------------------------------------- signing

def _signed_bytes(fields: dict[str, Any]) -> bytes:
    """What the signature covers: the domain tag and the map without :sig."""
    unsigned = LispMap((_K[k], v) for k, v in fields.items() if k != "sig")
    return (FORMAT + "\n" + write(unsigned)).encode("utf-8")


def sign(form: Any, signer: keys.Signer, *, nonce: int | None = None,
         caps: Any = None, steps: int | None = None, re: int | None = None,
         to: str | None = None) -> LispMap:
    """`form` as a message signed by `signer` (world/keys.py), with the extras given."""
    fields: dict[str, Any] = {"body": canonical(form), "key": "", "nonce":
                              new_nonce() if nonce is None else nonce}
    if caps is not None:
        fields["caps"] = tuple(Keyword(c) for c in _cap_names(caps))
    if steps is not None:
        fields["steps"] = steps
    if re is not None:
        fields["re"] = re
    if to is not None:
        fields["to"] = to
    for name in ("nonce", "steps", "re"):
        if name in fields and not _count(fields[name]):
            raise MessageError(f":{name} must be a count from 0 to 2^63-1")
    if "to" in fields and not _hex_key(fields["to"]):
        raise MessageError(":to must be a public key (64 hex digits)")
    if len(fields["body"]) > MAX_FRAME:
        raise MessageError(f"the body is {len(fields['body'])} characters; "
                           f"the most a message carries is {MAX_FRAME}")
    try:
        public, _ = signer(b"")     # the key first: it is part of what is signed
        fields["key"] = public
        _, sig = signer(_signed_bytes(fields))
    except keys.SigningKeyError as e:
        raise MessageError(f"{e}") from None
    fields["sig"] = sig
    return LispMap((_K[k], v) for k, v in fields.items())


def _cap_names(caps: Any) -> list[str]:
    """Capability names from a vector/list of keywords, symbols or strings."""
    from ..lisp.types import Pair, Symbol
    items: list[Any] = []
    if type(caps) is tuple or type(caps) is list:
        items = list(caps)
    else:
        while type(caps) is Pair:
            items.append(caps.car)
            caps = caps.cdr
        if caps is not None:
            raise MessageError(":caps is a vector of capability names such as [:core]")
    if len(items) > MAX_CAPS:
        raise MessageError(f"at most {MAX_CAPS} capabilities may be asked for")
    names = []
    for c in items:
        name = c.name if type(c) in (Keyword, Symbol) else c
        if type(name) is not str or not name or len(name) > 64:
            raise MessageError(":caps is a vector of capability names such as [:core]")
        names.append(name)
    return names


def _count(x: Any) -> bool:
    return type(x) is int and 0 <= x <= MAX_INT


def _hex_key(x: Any) -> bool:
    return type(x) is str and keys.HEX_KEY.fullmatch(x) is not None


# ---------------------------------------------------------------- verifying

def fields_of(msg: Any) -> dict[str, Any]:
    """The message's fields by name, each of the right type; MessageError otherwise."""
    if type(msg) is not LispMap:
        raise MessageError("expected a message map {:body :key :nonce :sig}")
    fields: dict[str, Any] = {}
    for k, v in msg.items():
        if type(k) is not Keyword or k.name not in _K:
            raise MessageError(f"unknown field {_abridged(write(k, 60))}; "
                               f"a message has :{' :'.join(REQUIRED)} and may have "
                               f":{' :'.join(OPTIONAL)}")
        fields[k.name] = v
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        raise MessageError(f"no :{' :'.join(missing)}")
    if type(fields["body"]) is not str:
        raise MessageError(":body must be a string (the canonical text of a form)")
    if len(fields["body"]) > MAX_FRAME:
        raise MessageError(f"the body is longer than {MAX_FRAME} characters")
    if not _hex_key(fields["key"]):
        raise MessageError(":key must be a public key (64 lowercase hex digits)")
    if type(fields["sig"]) is not str or not keys.HEX_SIG.fullmatch(fields["sig"]):
        raise MessageError(":sig must be a signature (128 lowercase hex digits)")
    for name in ("nonce", "steps", "re"):
        if name in fields and not _count(fields[name]):
            raise MessageError(f":{name} must be a count from 0 to 2^63-1")
    if "to" in fields and not _hex_key(fields["to"]):
        raise MessageError(":to must be a public key (64 lowercase hex digits)")
    if "caps" in fields:
        caps = fields["caps"]
        if type(caps) is not tuple or len(caps) > MAX_CAPS \
                or any(type(c) is not Keyword for c in caps):
            raise MessageError(":caps must be a vector of keywords such as [:core]")
    return fields


def verify(msg: Any, *, max_depth: int = DEFAULT_DEPTH) -> tuple[Any, Header]:
    """The body's form and the header of a message whose signature holds.

    The signature is checked over the exact characters sent, and only then
    is the body read: it must hold exactly one form.
    """
    fields = fields_of(msg)
    if not keys.verify_signature(fields["key"], fields["sig"], _signed_bytes(fields)):
        raise MessageError("bad signature: it was not signed by :key, or was "
                           "changed after signing")
    try:
        forms = read_all(fields["body"], "<message>", max_depth=max_depth)
    except LispError as e:
        raise MessageError(f"the body does not read: {e}") from None
    if len(forms) != 1:
        raise MessageError(f"the body holds {len(forms)} forms; a message carries one")
    caps = fields.get("caps")
    header = Header(key=fields["key"], nonce=fields["nonce"],
                    caps=None if caps is None else tuple(c.name for c in caps),
                    steps=fields.get("steps"), re=fields.get("re"), to=fields.get("to"))
    return forms[0], header


# ---------------------------------------------------------------- frames

def encode(msg: LispMap) -> str:
    """A frame's text: the canonical text of the message map."""
    fields_of(msg)
    return write(msg)


def decode(frame: str | bytes) -> LispMap:
    """The message map a frame holds: exactly one map, of sane size; MessageError otherwise."""
    if isinstance(frame, (bytes, bytearray, memoryview)):
        if len(frame) > 4 * MAX_FRAME + 1024:
            raise MessageError(f"the frame is larger than {MAX_FRAME} characters")
        try:
            frame = bytes(frame).decode("utf-8")
        except UnicodeDecodeError:
            raise MessageError("the frame is not UTF-8 text") from None
    if type(frame) is not str:
        raise MessageError("a frame is text")
    if len(frame) > MAX_FRAME + 1024:       # room for the header around a body at the limit
        raise MessageError(f"the frame is larger than {MAX_FRAME} characters")
    try:
        forms = read_all(frame, "<frame>", max_depth=FRAME_DEPTH)
    except LispError as e:
        raise MessageError(f"the frame does not read: {e}") from None
    if len(forms) != 1 or type(forms[0]) is not LispMap:
        raise MessageError("a frame holds exactly one message map")
    return forms[0]


__all__ = ["FORMAT", "Header", "MAX_FRAME", "WINDOW", "canonical", "decode", "encode",
           "fields_of", "new_nonce", "sign", "verify"]
