"""Sending a program to a peer: `send(address, form, signer)` -> the remote value.

The form is signed with a new nonce (message.sign), sent as one text frame
over a WebSocket (`ws://`, or `wss://` with the certificates of `world
tls-init DIR`), and the one frame that comes back is verified: a valid
signature, and `:re` equal to our nonce, so a reply to some other request
(or a replayed one) is never taken for ours; given the peer's public key, the
request is addressed to it (`:to`) and a reply it did not sign is refused. Its body `{:value V :steps N}`
gives V; `{:error "..." :kind K}` and every failure on the way (no server,
no reply in time, TLS refused) end as one `MessageError` line that names
the address.

The three steps are separate functions so that `peer/send` (world/peer/net.py)
can run the network part apart from the evaluation thread and keep signing
and reading, which it charges to the program, on it.
"""
from __future__ import annotations

import ssl
import threading
import time
from typing import Any

from ..keys import Signer
from ..lisp.errors import MessageError
from ..lisp.types import Keyword, LispMap
from . import message

TIMEOUT = 30.0
OPEN_SECONDS = 10.0
POLL = 0.1                          # seconds between looks at `cancel` while waiting
MAX_REPLY = 4 * message.MAX_FRAME + 8192     # bytes of a reply frame (any UTF-8 of MAX_FRAME characters)
PROBE_SECONDS = 2.0                 # asking a TLS peer again why it hung up


def send(address: str, form: Any, signer: Signer, *, steps: int | None = None, caps: Any = None,
         tls_dir: str | None = None, timeout: float = TIMEOUT, peer: str | None = None) -> Any:
    """Run `form` at the peer `address`, signed by `signer`; its value, or MessageError.
    With `peer` (its public key), the request is addressed to that key alone (`:to`) and
    a reply signed by any other key is refused."""
    frame, nonce = request(form, signer, steps=steps, caps=caps, to=peer)
    reply = exchange(address, frame, tls_dir=tls_dir, timeout=timeout)
    return value_of(address, reply, nonce, peer=peer)


def request(form: Any, signer: Signer, *, steps: int | None = None, caps: Any = None,
            to: str | None = None) -> tuple[str, int]:
    """The frame asking a peer to run `form` (only the peer whose key is `to`, if given),
    and its nonce."""
    msg = message.sign(form, signer, steps=steps, caps=caps, to=to)
    return message.encode(msg), msg.get(Keyword("nonce"))


# ---------------------------------------------------------------- the network

def uri(address: str, tls_dir: str | None) -> str:
    """`address` as a ws:// or wss:// URI: HOST:PORT alone takes wss:// with TLS, else ws://;
    a scheme that does not match `tls_dir` is refused with a line saying what to change."""
    if type(address) is not str or not address or len(address) > 1000:
        raise MessageError("a peer address is a string such as \"ws://127.0.0.1:8200\"")
    if "://" not in address:
        address = ("wss://" if tls_dir is not None else "ws://") + address
    scheme = address.split("://", 1)[0].lower()
    if scheme not in ("ws", "wss"):
        raise MessageError(f"{address}: not a peer address (ws://HOST:PORT or wss://HOST:PORT)")
    if scheme == "wss" and tls_dir is None:
        raise MessageError(f"{address}: wss:// needs the TLS certificates: give --tls DIR "
                           f"(:tls \"DIR\" in Lisp), the directory `world tls-init` made")
    if scheme == "ws" and tls_dir is not None:
        raise MessageError(f"{address}: TLS certificates were given but the address is plain "
                           f"ws://: use wss:// (or leave out the certificates)")
    return address


def exchange(address: str, frame: str, *, tls_dir: str | None = None,
             timeout: float = TIMEOUT, cancel: threading.Event | None = None) -> str:
    """Send one frame to the peer and return the frame it answers with; one MessageError
    line for anything on the way. Setting `cancel` gives up (raising MessageError) soon."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect
    where = uri(address, tls_dir)
    ctx = _client_context(tls_dir)
    end = time.monotonic() + timeout
    opening = min(timeout, OPEN_SECONDS)
    try:
        ws = connect(where, ssl=ctx, proxy=None, compression=None, max_size=MAX_REPLY,
                     open_timeout=opening, close_timeout=2.0, ping_interval=None)
    except Exception as e:
        raise _opening_error(e, address, where, ctx, tls_dir, opening) from None
    try:
        with ws:
            ws.send(frame)
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    raise MessageError(f"{where}: no reply within {timeout:.3g} s")
                if cancel is not None and cancel.is_set():
                    raise MessageError(f"{where}: cancelled while waiting for the reply")
                try:
                    reply = ws.recv(timeout=min(POLL, left))
                except TimeoutError:
                    continue
                if not isinstance(reply, str):
                    raise MessageError(f"{where}: the peer answered with a binary frame, "
                                       f"not a message")
                return reply
    except ConnectionClosed as e:
        sent = getattr(e, "sent", None)
        if sent is not None and sent.code == 1009:
            raise MessageError(f"{where}: the reply is larger than {MAX_REPLY} bytes, more "
                               f"than any message") from None
        raise MessageError(f"{where}: the peer closed the connection before replying "
                           f"({_closed(e)})") from None
    except OSError as e:
        raise MessageError(f"{where}: the connection failed while waiting for the reply "
                           f"({e.strerror or type(e).__name__})") from None


def _opening_error(e: Exception, address: str, where: str, ctx: ssl.SSLContext | None,
                   tls_dir: str | None, opening: float) -> MessageError:
    """The one line for a connection that could not be opened."""
    from websockets.exceptions import InvalidStatus, InvalidURI
    if isinstance(e, InvalidURI):
        return MessageError(f"{address}: not a peer address (ws://HOST:PORT or wss://HOST:PORT)")
    if isinstance(e, InvalidStatus):
        status = e.response.status_code
        why = " ".join(bytes(e.response.body or b"").decode("utf-8", "replace").split())[:200]
        return MessageError(f"{where}: the peer refused the connection (HTTP {status}"
                            f"{': ' + why if why else ''})")
    if isinstance(e, ConnectionRefusedError):
        return MessageError(f"{where}: no peer answers there (connection refused)")
    if isinstance(e, TimeoutError):
        return MessageError(f"{where}: no answer within {opening:g} s (opening the connection)")
    tls = e if isinstance(e, ssl.SSLError) else _ssl_cause(e)
    if tls is None and ctx is not None:
        tls = _probe(where, ctx)    # the TLS verdict got lost inside websockets: ask again
    if isinstance(tls, ssl.SSLCertVerificationError):
        return MessageError(f"{where}: the peer is not certified by the CA of {tls_dir} "
                            f"({_why(tls)})")
    if isinstance(tls, str):
        return MessageError(f"{where}: the peer refused this client's TLS certificate ({tls}): "
                            f"use the --tls directory made with the peer's")
    if tls is not None:
        text = str(tls).lower()
        if (isinstance(tls, ssl.SSLEOFError) or "unexpected eof" in text
                or "wrong version number" in text or "record layer" in text
                or "packet length" in text):    # it hung up on our hello, or spoke no TLS
            return MessageError(f"{where}: no TLS there ({_why(tls)}): is the peer served "
                                f"without --tls? then use ws://")
        return MessageError(f"{where}: the peer refused this client's TLS certificate "
                            f"({_why(tls)}): use the --tls directory made with the peer's")
    hint = "" if ctx is not None else ": the peer may require TLS (wss:// and --tls DIR)"
    detail = getattr(e, "strerror", None) or " ".join(str(e).split())[:120] or type(e).__name__
    return MessageError(f"{where}: the connection could not be opened ({detail}){hint}")


def _probe(where: str, ctx: ssl.SSLContext) -> ssl.SSLError | str | None:
    """Shake hands with the peer once more and wait for a byte: the TLS error it gives, or
    why it hung up (under TLS 1.3 a server refuses a client certificate only after the
    client's side of the handshake is done; a WebSocket server otherwise waits for us)."""
    import socket
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(where)
        host, port = parts.hostname or "", parts.port or 443
        with socket.create_connection((host, port), timeout=PROBE_SECONDS) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                tls.settimeout(PROBE_SECONDS)
                if tls.recv(1) == b"":
                    return "it closed the connection right after the TLS handshake"
    except ssl.SSLError as e:
        return e
    except (OSError, ValueError):
        pass
    return None


def _client_context(tls_dir: str | None) -> ssl.SSLContext | None:
    if tls_dir is None:
        return None
    from ..objects.errors import ImageError
    from ..objects.tls import client_context
    try:
        return client_context(tls_dir)
    except ImageError as e:
        raise MessageError(str(e)) from None


def _ssl_cause(e: BaseException) -> ssl.SSLError | None:
    """The TLS error behind `e`, if one is."""
    seen = 0
    cause = e.__cause__ or e.__context__
    while cause is not None and seen < 10:
        if isinstance(cause, ssl.SSLError):
            return cause
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return None


def _why(e: BaseException) -> str:
    text = getattr(e, "verify_message", None) or getattr(e, "reason", None) or str(e)
    return " ".join(str(text).replace("_", " ").lower().split())[:160]


def _closed(e: Any) -> str:
    rcvd = getattr(e, "rcvd", None)
    if rcvd is None:
        return "no close frame"
    reason = f": {rcvd.reason}" if rcvd.reason else ""
    return f"code {int(rcvd.code)}{reason}"


# ---------------------------------------------------------------- the reply

def value_of(address: str, reply: str, nonce: int, *, peer: str | None = None,
             max_depth: int = message.DEFAULT_DEPTH) -> Any:
    """The value a verified reply to `nonce` carries; MessageError with the peer's line
    (its :kind first, such as `refused: unknown key`) if it answered with an error."""
    return outcome(address, reply, nonce, peer=peer, max_depth=max_depth)[0]


def outcome(address: str, reply: str, nonce: int, *, peer: str | None = None,
            max_depth: int = message.DEFAULT_DEPTH) -> tuple[Any, str]:
    """The value and the output (what the program displayed) of a verified reply to `nonce`,
    signed by `peer` if that key is given."""
    try:
        body, header = message.verify(message.decode(reply), max_depth=max_depth)
    except MessageError as e:
        raise MessageError(f"{address}: the reply does not verify: {e.message}") from None
    if peer is not None and header.key != peer:
        raise MessageError(f"{address}: the reply is signed by {header.key[:16]}..., not by "
                           f"the peer key {peer[:16]}... it was sent to")
    if header.re != nonce:
        raise MessageError(f"{address}: the reply answers another request (:re {header.re}, "
                           f"expected {nonce})")
    if type(body) is not LispMap:
        raise MessageError(f"{address}: the reply's body is not a result map")
    output = body.get(Keyword("output"), "")
    output = output if type(output) is str else ""
    if Keyword("value") in body:
        return body.get(Keyword("value")), output
    error = body.get(Keyword("error"))
    kind = body.get(Keyword("kind"))
    if type(error) is not str:
        raise MessageError(f"{address}: the reply holds neither :value nor :error")
    label = kind.name if type(kind) is Keyword else "error"
    raise MessageError(f"{address}: {label}: {' '.join(error.split())}")


__all__ = ["TIMEOUT", "exchange", "outcome", "request", "send", "uri", "value_of"]
