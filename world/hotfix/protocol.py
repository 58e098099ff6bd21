"""The hot-fix channel's frames: what production and the hub say to each other.

Every frame is a signed message (world/peer/message.py) whose body is a map

    {:type :hello|:welcome|:error-report|:inspect|:apply|:result|:close  :seq N  ...}

`:seq` counts 1, 2, 3... per sender per connection; a receiver (`Inbound`)
refuses any seq that is not exactly the last one plus one (a replayed or
reordered frame), any nonce not above the last one, and, once the peer's
first frame has named its key, any frame signed by another key. The
fields of each type:

    hello         (prod -> hub)  :image "<uid>" :head "<hash>" :key "<prod key>" [:token "..."]
    welcome       (hub -> prod)  :hub "<hub key>"
    error-report  (prod -> hub)  :id "<uuid>" :message "..." :backtrace ["in f at 3:4" ...]
                                 :definitions [{:name :source :state :commit} ...] :head "<hash>"
    inspect       (hub -> prod)  :id N :form FORM
    apply         (hub -> prod)  :id N :base "<prod head>" :commits [COMMIT ...]
                                 :checks [{:name "f" :source "(check 1 (f 0))"} ...]
    result        (either way)   :re-id N and either :value V or :error "one line"
    close         (either way)   :reason "..."

A COMMIT is an atomic commit of the development history as a map
(`commit_map`): `:hash :parent` and every field its hash covers (`:seq :kind
:symbol :source :typed :time :violations`, and `:doc`, `:state` when it has
them); `commit_hash` recomputes the hash the way history/commits.py does.
Anything malformed is one MessageError line.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .. import keys
from ..lisp.errors import MessageError
from ..lisp.printer import write
from ..lisp.types import Keyword, LispMap
from ..peer import message

PROTOCOL = "world-hotfix/1"
MAX_FRAME = message.MAX_FRAME       # characters of one frame's body (the message layer's limit)
IDLE_SECONDS = 60.0                 # a channel with no frame either way for this long closes
MAX_ITEMS = 1_000                   # backtrace lines, definitions, commits or checks in one frame
MAX_TEXT = 256 * 1024               # characters of one string field
GENESIS = "0" * 64

TYPES = ("hello", "welcome", "error-report", "inspect", "apply", "result", "close")
HEX = re.compile(r"[0-9a-f]{64}")

# field -> (kind, required) per frame type; kinds are checked by `_check`
SHAPES: dict[str, dict[str, tuple[str, bool]]] = {
    "hello": {"image": ("str", True), "head": ("hash", True), "key": ("key", True),
              "token": ("str", False), "protocol": ("str", False)},
    "welcome": {"hub": ("key", True)},
    "error-report": {"id": ("str", True), "message": ("str", True),
                     "backtrace": ("strs", True), "definitions": ("defs", True),
                     "head": ("hash", True)},
    "inspect": {"id": ("count", True), "form": ("any", True)},
    "apply": {"id": ("count", True), "base": ("hash", True), "commits": ("commits", True),
              "checks": ("checks", True)},
    "result": {"re-id": ("ref", True), "value": ("any", False), "error": ("str", False)},
    "close": {"reason": ("str", True)},
}

COMMIT_FIELDS = ("seq", "kind", "symbol", "source", "typed", "doc", "time", "violations", "state")


def K(name: str) -> Keyword:
    """The keyword `:name`."""
    return Keyword(name)


@dataclass(frozen=True)
class Frame:
    """A verified frame: its type, seq, fields by name, and who signed it."""

    type: str
    seq: int
    fields: dict[str, Any]
    key: str
    nonce: int

    def get(self, name: str, default: Any = None) -> Any:
        """A field's value, or `default`."""
        return self.fields.get(name, default)


# ---------------------------------------------------------------- building frames

def body(kind: str, seq: int, **fields: Any) -> LispMap:
    """The body map of a frame of type `kind` (underscores in field names become dashes)."""
    named = {k.replace("_", "-"): v for k, v in fields.items() if v is not None}
    _validate(kind, seq, named)
    pairs = [(K("type"), K(kind)), (K("seq"), seq)]
    pairs += [(K(k), v) for k, v in named.items()]
    return LispMap(pairs)


def frame(signer: keys.Signer, kind: str, seq: int, **fields: Any) -> str:
    """A frame's text: the body of type `kind`, signed by `signer`, encoded for the wire."""
    msg = message.sign(body(kind, seq, **fields), signer)
    text = message.encode(msg)
    if len(text) > MAX_FRAME:
        raise MessageError(f"the {kind} frame is {len(text)} characters; the most a frame "
                           f"carries is {MAX_FRAME}")
    return text


def parse(text: str | bytes) -> Frame:
    """The verified frame `text` holds: signature good, body of a known type, fields well formed."""
    if isinstance(text, (str, bytes, bytearray)) and len(text) > MAX_FRAME + 4096:
        raise MessageError(f"the frame is larger than {MAX_FRAME} characters")
    form, header = message.verify(message.decode(text))
    if type(form) is not LispMap:
        raise MessageError("a hot-fix frame's body is a map {:type ... :seq ...}")
    named: dict[str, Any] = {}
    for k, v in form.items():
        if type(k) is not Keyword:
            raise MessageError(f"a hot-fix frame's keys are keywords, not {write(k, 40)}")
        named[k.name] = v
    kind = named.pop("type", None)
    seq = named.pop("seq", None)
    if type(kind) is not Keyword or kind.name not in TYPES:
        raise MessageError(f"unknown frame type {write(kind, 40)}: expected one of "
                           f":{' :'.join(TYPES)}")
    _validate(kind.name, seq, named)
    if kind.name == "hello" and named["key"] != header.key:
        raise MessageError("hello: :key is not the key that signed it")
    if kind.name == "welcome" and named["hub"] != header.key:
        raise MessageError("welcome: :hub is not the key that signed it")
    return Frame(kind.name, seq, named, header.key, header.nonce)


# ---------------------------------------------------------------- validation

def _validate(kind: str, seq: Any, named: dict[str, Any]) -> None:
    """Refuse (MessageError) a body whose seq or fields do not fit its type."""
    shape = SHAPES.get(kind)
    if shape is None:
        raise MessageError(f"unknown frame type :{kind}")
    if type(seq) is not int or not 1 <= seq <= message.MAX_INT:
        raise MessageError(f"{kind}: :seq must be a count from 1")
    for name in named:
        if name not in shape:
            raise MessageError(f"{kind}: unknown field :{name}; it has "
                               f":{' :'.join(shape)}")
    for name, (what, required) in shape.items():
        if name not in named:
            if required:
                raise MessageError(f"{kind}: no :{name}")
            continue
        _check(kind, name, what, named[name])
    if kind == "result" and ("value" in named) == ("error" in named):
        raise MessageError("result: exactly one of :value and :error")


def _check(kind: str, name: str, what: str, v: Any) -> None:
    where = f"{kind}: :{name}"
    if what == "any":
        return
    if what == "str":
        _text(where, v)
    elif what == "hash":
        if type(v) is not str or not HEX.fullmatch(v):
            raise MessageError(f"{where} must be a hash (64 lowercase hex digits)")
    elif what == "key":
        if type(v) is not str or not keys.HEX_KEY.fullmatch(v):
            raise MessageError(f"{where} must be a public key (64 lowercase hex digits)")
    elif what == "count":
        if type(v) is not int or not 0 <= v <= message.MAX_INT:
            raise MessageError(f"{where} must be a count")
    elif what == "ref":
        if type(v) is str:
            _text(where, v)
        elif type(v) is not int or not 0 <= v <= message.MAX_INT:
            raise MessageError(f"{where} must be a count or an id string")
    elif what == "strs":
        for x in _vector(where, v):
            _text(where, x)
    elif what == "defs":
        for m in _vector(where, v):
            _map(where, m, {"name": True, "source": True, "state": True, "commit": True})
    elif what == "checks":
        for m in _vector(where, v):
            _map(where, m, {"name": True, "source": True})
    elif what == "commits":
        for m in _vector(where, v):
            commit_fields(m)


def _text(where: str, v: Any) -> None:
    if type(v) is not str:
        raise MessageError(f"{where} must be a string")
    if len(v) > MAX_TEXT:
        raise MessageError(f"{where} is longer than {MAX_TEXT} characters")


def _vector(where: str, v: Any) -> tuple:
    if type(v) is not tuple:
        raise MessageError(f"{where} must be a vector [...]")
    if len(v) > MAX_ITEMS:
        raise MessageError(f"{where} holds {len(v)} items; at most {MAX_ITEMS}")
    return v


def _map(where: str, m: Any, allowed: dict[str, bool]) -> dict[str, Any]:
    """A map of string fields: the `allowed` ones, those marked True required."""
    if type(m) is not LispMap:
        raise MessageError(f"{where} holds maps {{:{' :'.join(allowed)}}}")
    out: dict[str, Any] = {}
    for k, v in m.items():
        if type(k) is not Keyword or k.name not in allowed:
            raise MessageError(f"{where}: unknown field {write(k, 40)}")
        _text(where, v)
        out[k.name] = v
    missing = [n for n, req in allowed.items() if req and n not in out]
    if missing:
        raise MessageError(f"{where}: an item has no :{' :'.join(missing)}")
    return out


# ---------------------------------------------------------------- commits

def commit_map(c: Any) -> LispMap:
    """An atomic commit (history/commits.py) as the map an apply frame carries."""
    f = c.fields()
    pairs: list[tuple[Any, Any]] = [(K("hash"), c.hash), (K("parent"), c.parent)]
    for name in COMMIT_FIELDS:
        if name not in f or f[name] is None:
            continue                # doc and state are absent rather than nil
        v = f[name]
        if name == "violations":
            v = tuple(tuple(row) for row in v)
        pairs.append((K(name), v))
    return LispMap(pairs)


def commit_fields(m: Any) -> tuple[str, str, dict[str, Any]]:
    """(hash, parent, the fields its hash covers) of a commit map; MessageError if malformed."""
    where = "apply: :commits"
    if type(m) is not LispMap:
        raise MessageError(f"{where} holds maps {{:hash :parent :seq :kind :symbol ...}}")
    got: dict[str, Any] = {}
    for k, v in m.items():
        if type(k) is not Keyword or k.name not in ("hash", "parent") + COMMIT_FIELDS:
            raise MessageError(f"{where}: unknown field {write(k, 40)}")
        got[k.name] = v
    for name in ("hash", "parent", "seq", "kind", "symbol", "source", "typed", "time",
                 "violations"):
        if name not in got:
            raise MessageError(f"{where}: a commit has no :{name}")
    for name in ("hash", "parent"):
        if type(got[name]) is not str or not HEX.fullmatch(got[name]):
            raise MessageError(f"{where}: :{name} must be a hash (64 lowercase hex digits)")
    if type(got["seq"]) is not int or got["seq"] < 0:
        raise MessageError(f"{where}: :seq must be a count")
    for name in ("kind", "symbol", "source", "typed", "time", "doc", "state"):
        if name in got:
            _text(f"{where}: :{name}", got[name])
    rows = got["violations"]
    if type(rows) is not tuple or len(rows) > MAX_ITEMS or any(
            type(r) is not tuple or any(type(x) is not str for x in r) for r in rows):
        raise MessageError(f"{where}: :violations must be a vector of vectors of strings")
    fields = {n: got.get(n) for n in COMMIT_FIELDS if n != "state"}
    fields["violations"] = [list(r) for r in rows]
    if "state" in got:
        fields["state"] = got["state"]
    return got["hash"], got["parent"], fields


def commit_hash(parent: str, fields: dict[str, Any]) -> str:
    """The hash an atomic commit with these fields and this parent has (history/commits.py digest)."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((parent + "\n" + text).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- one connection's order

@dataclass
class Outbound:
    """The seq numbers this side gives its frames on one connection."""

    signer: keys.Signer
    seq: int = 0

    def frame(self, kind: str, **fields: Any) -> str:
        """The next frame of type `kind`, signed; a frame refused here uses up no seq."""
        text = frame(self.signer, kind, self.seq + 1, **fields)
        self.seq += 1
        return text


@dataclass
class Inbound:
    """What one connection has received: refuses a replayed, reordered or re-signed frame."""

    key: str | None = None          # the peer's key, pinned by its first frame (or given)
    seq: int = 0
    nonce: int = 0
    seen: set[int] = field(default_factory=set)

    def accept(self, text: str | bytes) -> Frame:
        """The frame `text` holds if it is the next one from the peer; MessageError otherwise,
        with this object unchanged (the channel's state stays intact)."""
        f = parse(text)
        if self.key is not None and f.key != self.key:
            raise MessageError("refused: the frame is signed by another key than this "
                               "channel's peer")
        if f.seq != self.seq + 1:
            why = "replayed" if f.seq <= self.seq else "out of order"
            raise MessageError(f"refused: :seq {f.seq} {why} (expected {self.seq + 1})")
        if f.nonce <= self.nonce or f.nonce in self.seen:
            raise MessageError("refused: a replayed nonce")
        now = time.time_ns() // 1000
        if abs(now - f.nonce) > message.WINDOW * 1_000_000:
            raise MessageError(f"refused: the frame's nonce is more than {message.WINDOW:g} s "
                               f"from this clock")
        self.key = f.key
        self.seq, self.nonce = f.seq, f.nonce
        self.seen.add(f.nonce)
        return f


def ephemeral_signer() -> keys.Signer:
    """A signer with a fresh Ed25519 key held only in memory."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw).hex()

    def sign(data: bytes) -> tuple[str, str]:
        return public, key.sign(bytes(data)).hex()
    return sign


def one_line(e: BaseException, limit: int = 400) -> str:
    """An error as the one line a result or close carries."""
    text = " ".join(str(getattr(e, "message", None) or e).split()) or type(e).__name__
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = ["Frame", "GENESIS", "IDLE_SECONDS", "Inbound", "MAX_FRAME", "Outbound", "PROTOCOL",
           "TYPES", "body", "commit_fields", "commit_hash", "commit_map", "ephemeral_signer",
           "frame", "one_line", "parse"]
