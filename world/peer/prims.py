"""`peer/trust`, `peer/trusted`, `peer/untrust`, and the `(inspect :peers)` view.

Trusting a key is a change to the world (group `image`), made in the running
form's transaction; listing the trusted keys is reading it (`reflect`). A
remote peer may only ever be granted the groups in store.GRANTABLE: a trust
record naming any other is refused, so no record can hand a peer the image,
the host or the network.
"""
from __future__ import annotations

import math
from typing import Any

from .. import keys
from ..lisp import budget
from ..lisp.errors import LispTypeError, SandboxFailure
from ..lisp.primitives import primitive
from ..lisp.types import Keyword, LispMap, Pair, Symbol, make_list
from ..objects.image import iso
from ..objects.prims import _world, host_facts
from .store import DEFAULTS, GRANTABLE, TrustRecord, find, peer_store

TRUST_OPTIONS = ("name", "caps", "steps", "memory", "seconds", "per-minute", "concurrent")
MAX_NAME = 100
MAX_STEPS = 10 ** 12
MAX_MEMORY = 1 << 40
MAX_SECONDS = 86_400.0
MAX_RATE = 1_000_000
MAX_CONCURRENT = 1_000
MAX_CAPS = 16
RECENT = 50         # exchanges (inspect :peers) shows


# ---------------------------------------------------------------- arguments

def public_key(who: str, x: Any) -> str:
    """`x` as a public key (64 lowercase hex digits)."""
    try:
        return keys.normal_public_key(x)
    except keys.SigningKeyError as e:
        raise LispTypeError(f"{who}: {e}") from None


def _options(who: str, opts: tuple) -> dict[str, Any]:
    if len(opts) % 2:
        raise LispTypeError(f"{who}: options come in pairs, :key value")
    out: dict[str, Any] = {}
    for k, v in zip(opts[::2], opts[1::2]):
        if type(k) is not Keyword or k.name not in TRUST_OPTIONS:
            raise LispTypeError(f"{who}: unknown option; expected :{' :'.join(TRUST_OPTIONS)}")
        out[k.name] = v
    return out


def grantable(who: str, x: Any) -> tuple[str, ...]:
    """Capability names from a vector or list, each one a peer may be granted."""
    items: list[Any] = []
    if type(x) is tuple:
        items = list(x)
    else:
        while type(x) is Pair and len(items) <= MAX_CAPS:
            items.append(x.car)
            x = x.cdr
        if x is not None and type(x) is not Pair:
            raise LispTypeError(f"{who}: :caps expects a vector of capability names, "
                                f"such as [:core]")
    if len(items) > MAX_CAPS:
        raise LispTypeError(f"{who}: :caps names at most {MAX_CAPS} groups")
    names = []
    for c in items:
        name = c.name if type(c) in (Keyword, Symbol) else c
        if type(name) is not str:
            raise LispTypeError(f"{who}: :caps expects a vector of capability names, "
                                f"such as [:core]")
        names.append(name)
    refused = sorted({n for n in names if n not in GRANTABLE})
    if refused:
        raise SandboxFailure(f"{who}: {', '.join(':' + n for n in refused)} cannot be granted to "
                             f"a peer; a peer may be granted only "
                             f"{', '.join(':' + g for g in GRANTABLE)}")
    return tuple(sorted(set(names)))


def _count(who: str, opts: dict[str, Any], name: str, most: int) -> int:
    v = opts.get(name, DEFAULTS.get(name))
    if type(v) is not int or not 1 <= v <= most:
        raise LispTypeError(f"{who}: :{name} expects a whole number from 1 to {most}")
    return v


def _seconds(who: str, opts: dict[str, Any]) -> float:
    v = opts.get("seconds", DEFAULTS["seconds"])
    if type(v) not in (int, float) or not (0 < v <= MAX_SECONDS) or math.isnan(v):
        raise LispTypeError(f"{who}: :seconds expects a number of seconds above 0, "
                            f"at most {MAX_SECONDS:g}")
    return float(v)


# ---------------------------------------------------------------- as data

def record_map(r: TrustRecord) -> LispMap:
    """A trust record as the map `peer/trust` returns."""
    return LispMap((Keyword(k), v) for k, v in host_facts({
        "key": r.key, "name": r.name, "caps": tuple(Keyword(c) for c in r.caps),
        "steps": r.steps, "memory": r.memory, "seconds": r.seconds,
        "per-minute": r.per_minute, "concurrent": r.concurrent,
        "time": iso(r.since)}).items())


def exchange_map(e: Any) -> LispMap:
    """One exchange of the log as a map."""
    d = e.as_dict()
    d["time"] = iso(d["time"])
    d["outcome"] = Keyword(d["outcome"])
    d["elapsed"] = round(d["elapsed"], 6)
    if d["nonce"] is None:
        d["nonce"] = False
    return LispMap((Keyword(k), v) for k, v in host_facts(d).items())


def inspect_peers(world: Any, recent: int = RECENT) -> LispMap:
    """The trusted keys with their grants, the newest exchanges first, and totals by outcome."""
    store = find(world.image.root)
    records = list(store.trusted.values()) if store is not None else []
    exchanges = store.recent(recent) if store is not None else []
    totals = store.total() if store is not None else {}
    budget.charge(len(records) + len(exchanges))
    return LispMap([
        (Keyword("count"), len(records)),
        (Keyword("totals"), LispMap((Keyword(k), v) for k, v in totals.items())),
        (Keyword("trusted"), make_list([record_map(r) for r in records])),
        (Keyword("exchanges"), (store.log.maxKey() - store.log.minKey() + 1)
         if store is not None and store.log else 0),
        (Keyword("recent"), make_list([exchange_map(e) for e in exchanges])),
    ])


# ---------------------------------------------------------------- primitives

@primitive("peer/trust", group="image")
def peer_trust(key: Any, *opts: Any) -> LispMap:
    """(peer/trust "KEY" :name s :caps [:core] :steps n ...) -> the most KEY's programs may use."""
    who = "peer/trust"
    key = public_key(who, key)
    o = _options(who, opts)
    name = o.get("name", key[:12])
    if type(name) is Symbol:
        name = name.name
    if type(name) is not str or not name.strip() or len(name) > MAX_NAME \
            or any(c in name for c in "\n\r\0"):
        raise LispTypeError(f"{who}: :name expects a one-line string of at most {MAX_NAME} "
                            f"characters")
    caps = grantable(who, o["caps"]) if "caps" in o else ("core",)
    record = TrustRecord(key, name, caps, _count(who, o, "steps", MAX_STEPS),
                         _count(who, o, "memory", MAX_MEMORY), _seconds(who, o),
                         _count(who, o, "per-minute", MAX_RATE),
                         _count(who, o, "concurrent", MAX_CONCURRENT))
    w = _world(who)
    w._change(lambda: peer_store(w.image.root).trust(record), f"peer: trust {name}")
    return record_map(record)


@primitive("peer/trusted", group="reflect")
def peer_trusted() -> Any:
    """(peer/trusted) -> the trusted keys, each a map of what it may be granted."""
    store = find(_world("peer/trusted").image.root)
    records = list(store.trusted.values()) if store is not None else []
    budget.charge(len(records))
    return make_list([record_map(r) for r in records])


@primitive("peer/untrust", group="image")
def peer_untrust(key: Any) -> bool:
    """(peer/untrust "PUBKEY") stops trusting a key: #t, or #f if it was not trusted."""
    who = "peer/untrust"
    key = public_key(who, key)
    w = _world(who)
    store = find(w.image.root)
    if store is None or store.record(key) is None:
        return False
    return w._change(lambda: store.untrust(key), f"peer: untrust {key[:12]}")
