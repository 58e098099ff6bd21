"""Helpers of the endpoint and trust tests: key pairs, a world with an endpoint, frames."""
from __future__ import annotations

from typing import Any, Iterator

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import world.session as session
from world.lisp.reader import read
from world.lisp.types import Keyword, LispMap
from world.peer import message
from world.peer.endpoint import Endpoint

K = Keyword


def make_signer() -> tuple[str, Any]:
    """A fresh Ed25519 key: (public key hex, signer)."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw).hex()
    return public, lambda data: (public, key.sign(bytes(data)).hex())


SERVER_KEY, SERVER = make_signer()
BOB_KEY, BOB = make_signer()
EVE_KEY, EVE = make_signer()


def frame(src: str, signer: Any = BOB, **header: Any) -> str:
    """The frame of the program `src` signed by `signer` with `header` extras."""
    return message.encode(message.sign(read(src), signer, **header))


def raw_frame(fields: dict[str, Any], signer: Any = BOB) -> str:
    """A frame of exactly `fields` (any values), with :key and a valid :sig by `signer`."""
    fields = dict(fields)
    fields["key"] = signer(b"")[0]
    fields.pop("sig", None)
    fields["sig"] = signer(message._signed_bytes(fields))[1]
    from world.lisp.printer import write
    return write(LispMap((K(k), v) for k, v in fields.items()))


def reply(text: str) -> tuple[LispMap, message.Header]:
    """A reply frame's body and header, checked to be signed by the server."""
    body, header = message.verify(message.decode(text))
    assert header.key == SERVER_KEY
    assert type(body) is LispMap
    return body, header


def get(body: LispMap, name: str) -> Any:
    return body.get(K(name), None)


def kind(text: str) -> str:
    """The :kind of a reply (\"ok\" for a value)."""
    body, _ = reply(text)
    k = get(body, "kind")
    return "ok" if k is None else k.name


def trust(w: Any, key: str = BOB_KEY, options: str = ':caps [:core :output] :steps 100000') -> None:
    w.eval(f'(peer/trust "{key}" :name "bob" {options})')


def open_world(path: Any, trusted: bool = True, options: str | None = None) -> Any:
    w = session.open(str(path))
    if trusted:
        trust(w, options=options) if options is not None else trust(w)
    return w


def served(path: Any, **kw: Any) -> Iterator[tuple[Any, Endpoint]]:
    """A world at `path` trusting bob, and an endpoint on it; both closed after."""
    options = kw.pop("options", None)
    w = open_world(path, options=options)
    ep = Endpoint(w, SERVER, **kw)
    try:
        yield w, ep
    finally:
        ep.close()
        w.close()
