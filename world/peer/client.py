"""Sending a program to a peer: `send(address, form, signer)` -> the remote value.

The form is signed with a new nonce (message.sign), sent as one text frame
over a WebSocket (`ws://`, or `wss://` with the certificates of `world
tls-init DIR`), and the one frame that comes back is verified: a valid
signature, and `:re` equal to our nonce, so a reply to some other request
(or a replayed one) is never taken for ours. Its body `{:value V :steps N}`
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

from ..lisp.errors import MessageError
from ..lisp.types import Keyword, LispMap
from . import message

TIMEOUT = 30.0
OPEN_SECONDS = 10.0
POLL = 0.1                          # seconds between looks at `cancel` while waiting


def send(address: str, form: Any, signer: Any, *, steps: int | None = None, caps: Any = None,
         tls_dir: str | None = None, timeout: float = TIMEOUT) -> Any:
    """Run `form` at the peer `address`, signed by `signer`; its value, or MessageError."""
    frame, nonce = request(form, signer, steps=steps, caps=caps)
    return value_of(address, exchange(address, frame, tls_dir=tls_dir, timeout=timeout), nonce)


def request(form: Any, signer: Any, *, steps: int | None = None,
            caps: Any = None) -> tuple[str, int]:
    """The frame asking a peer to run `form`, and its nonce."""
    msg = message.sign(form, signer, steps=steps, caps=caps)
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
    from websockets.exceptions import (ConnectionClosed, InvalidHandshake, InvalidStatus,
                                       InvalidURI)
    from websockets.sync.client import connect
    where = uri(address, tls_dir)
    ctx = _client_context(tls_dir)
    end = time.monotonic() + timeout
    try:
        with connect(where, ssl=ctx, proxy=None, compression=None, max_size=None,
                     open_timeout=min(timeout, OPEN_SECONDS), close_timeout=2.0,
                     ping_interval=None) as ws:
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
    except MessageError:
        raise
    except InvalidURI:
        raise MessageError(f"{address}: not a peer address (ws://HOST:PORT or "
                           f"wss://HOST:PORT)") from None
    except InvalidStatus as e:
        status = e.response.status_code
        why = " ".join(bytes(e.response.body or b"").decode("utf-8", "replace").split())[:200]
        raise MessageError(f"{where}: the peer refused the connection (HTTP {status}"
                           f"{': ' + why if why else ''})") from None
    except ssl.SSLCertVerificationError as e:
        raise MessageError(f"{where}: the peer is not certified by the CA of {tls_dir} "
                           f"({_why(e)})") from None
    except ssl.SSLError as e:
        if "wrong version number" in str(e).lower() or "record layer" in str(e).lower():
            raise MessageError(f"{where}: no TLS there ({_why(e)}): is the peer served "
                               f"without --tls? then use ws://") from None
        raise MessageError(f"{where}: the peer refused this client's TLS certificate "
                           f"({_why(e)}): use the --tls directory made with the "
                           f"peer's") from None
    except ConnectionRefusedError:
        raise MessageError(f"{where}: no peer answers there (connection refused)") from None
    except TimeoutError:
        raise MessageError(f"{where}: no answer within {min(timeout, OPEN_SECONDS):g} s "
                           f"(opening the connection)") from None
    except ConnectionClosed as e:
        raise MessageError(f"{where}: the peer closed the connection before replying "
                           f"({_closed(e)})") from None
    except InvalidHandshake as e:
        hint = "" if ctx is not None else ": the peer may require TLS (wss:// and --tls DIR)"
        raise MessageError(f"{where}: the WebSocket handshake failed "
                           f"({' '.join(str(e).split())[:120]}){hint}") from None
    except (OSError, EOFError) as e:
        hint = "" if ctx is not None else ": the peer may require TLS (wss:// and --tls DIR)"
        raise MessageError(f"{where}: the connection failed "
                           f"({getattr(e, 'strerror', None) or type(e).__name__}){hint}") from None


def _client_context(tls_dir: str | None) -> ssl.SSLContext | None:
    if tls_dir is None:
        return None
    from ..objects.errors import ImageError
    from ..objects.tls import client_context
    try:
        return client_context(tls_dir)
    except ImageError as e:
        raise MessageError(str(e)) from None


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

def value_of(address: str, reply: str, nonce: int, *,
             max_depth: int = message.DEFAULT_DEPTH) -> Any:
    """The value a verified reply to `nonce` carries; MessageError with the peer's line
    (its :kind first, such as `refused: unknown key`) if it answered with an error."""
    try:
        body, header = message.verify(message.decode(reply), max_depth=max_depth)
    except MessageError as e:
        raise MessageError(f"{address}: the reply does not verify: {e.message}") from None
    if header.re != nonce:
        raise MessageError(f"{address}: the reply answers another request (:re {header.re}, "
                           f"expected {nonce})")
    if type(body) is not LispMap:
        raise MessageError(f"{address}: the reply's body is not a result map")
    if Keyword("value") in body:
        return body.get(Keyword("value"))
    error = body.get(Keyword("error"))
    kind = body.get(Keyword("kind"))
    if type(error) is not str:
        raise MessageError(f"{address}: the reply holds neither :value nor :error")
    label = kind.name if type(kind) is Keyword else "error"
    raise MessageError(f"{address}: {label}: {' '.join(error.split())}")


__all__ = ["TIMEOUT", "exchange", "request", "send", "uri", "value_of"]
