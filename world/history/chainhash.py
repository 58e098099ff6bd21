"""Checking an atomic commit's stored hash quickly, for `verify` over long chains.

`AtomicCommit.compute_hash` hashes `json.dumps(fields, sort_keys=True,
ensure_ascii=False, separators=(",", ":"))`; setting up that encoder costs
more than the hashing. `canonical` writes the same text directly for fields
of the types commits hold (strings, None, ints, lists of lists of strings),
and gives up (None) on anything else, so `hash_matches` never says a commit
matches unless `compute_hash` would; when the quick text does not match, it
asks `compute_hash` itself.
"""
from __future__ import annotations

import hashlib
from json.encoder import encode_basestring as _quote     # what ensure_ascii=False writes strings with
from typing import Any


def canonical(fields: dict[str, Any]) -> str | None:
    """The JSON text `commits.digest` hashes for `fields`, or None for an unexpected type."""
    out = []
    for key in sorted(fields):
        if type(key) is not str:
            return None
        v = fields[key]
        t = type(v)
        if t is str:
            text = _quote(v)
        elif v is None:
            text = "null"
        elif t is int:
            text = int.__repr__(v)
        elif t is list:
            rows = []
            for row in v:
                if type(row) is not list:
                    return None
                for x in row:
                    if type(x) is not str:
                        return None
                rows.append("[" + ",".join(map(_quote, row)) + "]")
            text = "[" + ",".join(rows) + "]"
        else:
            return None
        out.append(_quote(key) + ":" + text)
    return "{" + ",".join(out) + "}"


def hash_matches(c: Any, stored: Any) -> bool:
    """Whether atomic commit `c`'s fields and parent hash to `stored`, as `compute_hash` says."""
    parent = c.parent
    text = canonical(c.fields()) if type(parent) is str else None
    if text is not None:
        try:
            if hashlib.sha256((parent + "\n" + text).encode("utf-8")).hexdigest() == stored:
                return True
        except UnicodeEncodeError:
            pass                    # compute_hash meets it too, and says so
    return c.compute_hash() == stored
