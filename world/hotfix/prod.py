"""Running a production image, and its side of the hot-fix channel.

`Runner` keeps a production image's program running: every `every` seconds
it evaluates the program's forms (by default `(main)`), each as one
top-level form, and writes `[run N] VALUE` (or `[run N] error: ...`). The
main thread owns the world: requests from the hub (inspect, apply) wait in a
queue and run between two runs of the program, so an applied fix is what
the next run uses, and the program never sees half a fix.

`Channel` is the client side of the hot-fix channel, in a thread of its
own: when a run fails with a LispError, or the program calls `(debug/open)`,
it dials the hub (wss:// only, with the client certificate of `--tls DIR`),
says hello (with the token), waits for the welcome, which names the hub's
key, and sends the error report. Frames from the hub are checked in order
(protocol.Inbound: seq, nonce, key); a refused one is answered with a
result carrying the refusal, and the channel stays open. The channel closes
after `idle` seconds with no frame either way; only one is open at a time.
"""
from __future__ import annotations

import queue
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from .. import keys
from ..history.fingerprint import state_of
from ..lisp.errors import LispError, MessageError
from ..lisp.printer import write
from ..lisp.reader import read_all
from ..lisp.types import Keyword, LispMap, Symbol
from ..objects.errors import ImageError
from . import hotlog, protocol
from .apply import HotfixRefused, apply, head_of
from .inspect_view import inspect
from .protocol import Frame, Inbound, Outbound, one_line

WS_MAX = 4 * protocol.MAX_FRAME + 8192  # bytes the socket accepts; the protocol refuses past MAX_FRAME
CONNECT_SECONDS = 10.0
MAX_DEFINITIONS = 20                    # definitions an error report carries
REPORT_SOURCES = protocol.MAX_FRAME // 4    # characters of their sources (escaping can double them)
MAX_TOKEN = 4096
DIAL_BACKOFF = 5.0                      # seconds before dialling again after the hub could not be reached

Say = Callable[[str], Any]


def check_hub(url: str, tls: str | None) -> tuple[str, int]:
    """The host and port of a hub URL; ImageError (one line) for a plain or malformed one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is not None and parts.scheme == "ws" and tls is not None:
        raise ImageError(f"--hub {url}: refused: plain ws:// when --tls is given; use wss://")
    if parts is None or parts.scheme != "wss" or not parts.hostname or port is None:
        raise ImageError(f"--hub {url}: expected wss://HOST:PORT")
    if tls is None:
        raise ImageError("--tls DIR is required: the channel runs over TLS with a client "
                         "certificate (`world tls-init DIR`)")
    return parts.hostname, port


def read_token(path: str) -> str:
    """The token in file `path` (its first line); ImageError if missing, empty or readable by others."""
    import os
    import stat
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise ImageError(f"--token-file {path}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ImageError(f"--token-file {path}: not a regular file")
        if st.st_mode & 0o077:
            raise ImageError(f"--token-file {path}: readable by others (mode "
                             f"{stat.S_IMODE(st.st_mode):04o}): run `chmod 600 {path}`")
        data = os.read(fd, MAX_TOKEN + 1)
    finally:
        os.close(fd)
    try:
        token = data.decode("utf-8").strip().splitlines()[0].strip() if data.strip() else ""
    except UnicodeDecodeError:
        token = ""
    if not token or len(data) > MAX_TOKEN:
        raise ImageError(f"--token-file {path}: expected one line holding the token")
    return token


def production_signer() -> keys.Signer:
    """The user's signing key if there is one (`world keys init`), else a key for this process."""
    try:
        return keys.signer()
    except keys.SigningKeyError:
        return protocol.ephemeral_signer()


# ---------------------------------------------------------------- error reports

def report_of(world: Any, e: LispError, program: Any = None) -> dict[str, Any]:
    """An error-report's fields for `e` (raised by a run of `program`): message, Lisp
    backtrace, the definitions involved with their source and state, and the head."""
    root = world.image.root
    names = world.names
    involved: list[str] = []
    for name, _ in e.backtrace:
        if name not in involved and (names.defs.get(name) is not None
                                     or names.macros.get(name) is not None):
            involved.append(name)
    if program is not None:
        from ..audit.checks import symbols_in
        for n in sorted(symbols_in(program, set())):
            if n not in involved and names.defs.get(n) is not None:
                involved.append(n)
    defs = []
    room = REPORT_SOURCES
    for n in involved[:MAX_DEFINITIONS]:
        d, m = names.defs.get(n), names.macros.get(n)
        source = (d or m).source or ""
        if len(source) > room:
            break                       # the frame must stay under MAX_FRAME: the rest by inspect
        room -= len(source)
        defs.append(LispMap([(Keyword("name"), n), (Keyword("source"), source),
                             (Keyword("state"), state_of(d, m)),
                             (Keyword("commit"), hotlog.commit_of(root.settings, n))]))
    return {"id": uuid.uuid4().hex, "message": one_line(e, 2000),
            "backtrace": tuple(line.strip() for line in e.format_backtrace()),
            "definitions": tuple(defs), "head": head_of(root)}


# ---------------------------------------------------------------- the channel

@dataclass
class Channel:
    """The production side of one hot-fix channel at a time (see the module)."""

    url: str
    ctx: ssl.SSLContext
    token: str | None
    signer: keys.Signer
    hello: Callable[[], dict[str, Any]]     # the hello's :image and :head, read when dialling
    requests: "queue.Queue[Any]"            # frames for the main thread: (channel id, Frame)
    idle: float = protocol.IDLE_SECONDS
    say: Say = print
    hub_key: str | None = None
    opened: int = 0                         # channels opened so far (the current one's number)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ws: Any = None
    _out: Outbound | None = None
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _sent: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    last: float = 0.0                       # monotonic time of the last frame either way
    _next_dial: float = 0.0

    def is_open(self) -> bool:
        """Whether a channel is open or being opened."""
        return self._thread is not None and self._thread.is_alive()

    def open(self, report: dict[str, Any] | None = None) -> None:
        """Send `report` (if any) over the open channel, dialling the hub first if none is."""
        with self._lock:
            if report is not None:
                sig = (report["message"], report["backtrace"])
                if sig in self._sent:
                    return              # the same failure again: the hub has it
                self._sent.add(sig)
            ready = self._ws is not None and self.is_open()
            if not ready:
                if report is not None:
                    self._pending.append(report)
                if not self.is_open():
                    if time.monotonic() < self._next_dial:
                        self._pending.clear()   # the hub was unreachable a moment ago
                        return
                    self.opened += 1
                    self._thread = threading.Thread(target=self._run, name="hotfix-channel",
                                                    daemon=True)
                    self._thread.start()
                return
        if report is not None:
            self.send("error-report", **report)

    def send(self, kind: str, **fields: Any) -> bool:
        """Send one frame on the open channel; False if none is open."""
        with self._lock:
            ws, out = self._ws, self._out
            if ws is None or out is None:
                return False
            try:
                ws.send(out.frame(kind, **fields))
            except MessageError as e:           # e.g. a value too large for a frame
                ws.send(out.frame("result", re_id=fields.get("re_id", 0),
                                  error=one_line(e)))
            except Exception as e:              # the connection is gone
                self.say(f"[hotfix] send failed: {one_line(e)}")
                return False
            self.last = time.monotonic()
            return True

    def close(self, reason: str = "production is stopping") -> None:
        """Close the channel (if open) with `reason`, and wait for its thread."""
        self.send("close", reason=reason)
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        t = self._thread
        if t is not None:
            t.join(5)

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        from websockets.sync.client import connect
        try:
            ws = connect(self.url, ssl=self.ctx, open_timeout=CONNECT_SECONDS, max_size=WS_MAX,
                         compression=None, proxy=None, ping_interval=None)
        except Exception as e:
            self.say(f"[hotfix] cannot reach the hub at {self.url}: {one_line(e)}")
            self._next_dial = time.monotonic() + DIAL_BACKOFF
            self._reset()
            return
        inbound = Inbound()
        try:
            out = Outbound(self.signer)
            hello = dict(self.hello(), key=self.signer(b"")[0], protocol=protocol.PROTOCOL)
            if self.token:
                hello["token"] = self.token
            ws.send(out.frame("hello", **hello))
            first = inbound.accept(ws.recv(timeout=CONNECT_SECONDS))
            if first.type == "close":
                self.say(f"[hotfix] the hub refused the channel: {first.get('reason')}")
                return
            if first.type != "welcome":
                self.say(f"[hotfix] the hub answered hello with {first.type}, not welcome")
                return
            with self._lock:
                self.hub_key = first.get("hub")
                self._ws, self._out = ws, out
                pending, self._pending = self._pending, []
            self.last = time.monotonic()
            self.say(f"[hotfix] channel {self.opened} open to {self.url} (hub "
                     f"{self.hub_key[:16]})")
            for report in pending:
                self.send("error-report", **report)
            self._serve(ws, inbound)
        except TimeoutError:
            self.say("[hotfix] the hub did not welcome us in time")
        except MessageError as e:
            self.say(f"[hotfix] the hub's answer was refused: {one_line(e)}")
        except Exception as e:
            self.say(f"[hotfix] channel lost: {one_line(e)}")
        finally:
            try:
                ws.close()
            except Exception:
                pass
            self._reset()

    def _reset(self) -> None:
        with self._lock:
            self._ws, self._out = None, None
            self._sent.clear()
            self._pending.clear()

    def _serve(self, ws: Any, inbound: Inbound) -> None:
        """Read frames until close or idle; hand requests to the main thread."""
        from websockets.exceptions import ConnectionClosed
        while True:
            left = self.idle - (time.monotonic() - self.last)
            if left <= 0:
                self.send("close", reason=f"idle for {self.idle:g} s")
                self.say(f"[hotfix] channel {self.opened} closed: idle for {self.idle:g} s")
                return
            try:
                text = ws.recv(timeout=left)
            except TimeoutError:
                continue
            except ConnectionClosed as e:
                why = f": {e.rcvd.reason}" if e.rcvd is not None and e.rcvd.reason else ""
                self.say(f"[hotfix] channel {self.opened} closed{why}")
                return
            self.last = time.monotonic()
            try:
                f = inbound.accept(text)
            except MessageError as e:
                self.say(f"[hotfix] refused a frame: {one_line(e)}")
                self.send("result", re_id=_id_of(text), error=one_line(e))
                continue
            if f.type == "close":
                self.say(f"[hotfix] the hub closed channel {self.opened}: {f.get('reason')}")
                return
            if f.type in ("inspect", "apply"):
                self.requests.put((self.opened, f))
            elif f.type != "result":            # results acknowledge reports: nothing to do
                self.send("result", re_id=0, error=f"refused: production does not take "
                                                   f"{f.type} frames")


def _id_of(text: Any) -> int:
    """The :id a refused frame claimed, if it can be read (0 otherwise): it names what was refused."""
    try:
        from ..peer import message
        form = read_all(message.fields_of(message.decode(text))["body"], max_depth=16)[0]
        v = form.get(Keyword("id")) if type(form) is LispMap else None
        return v if type(v) is int and v >= 0 else 0
    except Exception:
        return 0


# ---------------------------------------------------------------- the runner

MAIN = "(main)"
CURRENT: "Runner | None" = None         # the runner of this process, for (debug/open)


class Runner:
    """Runs a production image's program and serves the hub's requests between runs."""

    def __init__(self, world: Any, channel: Channel | None, program: str = MAIN,
                 every: float = 1.0, say: Say = print) -> None:
        self.world, self.channel, self.every, self.say = world, channel, every, say
        try:
            self.forms = [f for f, _ in world.forms(program, "<program>")]
        except LispError as e:
            raise ImageError(f"the program does not read: {e}") from None
        if not self.forms:
            raise ImageError("the program is empty: give forms to run (default: (main))")
        self.runs = 0
        self.stopping = False

    def run_once(self) -> None:
        """One run of the program: each form as a top-level form; a failure is reported."""
        self.runs += 1
        value: Any = None
        for form in self.forms:
            try:
                value = self.world.eval_form(form, source="<program>").value
            except LispError as e:
                self.say(f"[run {self.runs}] error: {e}")
                if self.channel is not None:
                    self.channel.open(report_of(self.world, e, form))
                return
        self.say(f"[run {self.runs}] {write(value, 2000)}")

    def debug_open(self, note: str | None) -> bool:
        """`(debug/open [NOTE])`: open the channel; with NOTE, send it as a report."""
        if self.channel is None:
            return False
        report = None
        if note is not None:
            report = {"id": uuid.uuid4().hex, "message": f"debug/open: {note}"[:2000],
                      "backtrace": (), "definitions": (),
                      "head": head_of(self.world.image.root)}
        self.channel.open(report)
        return True

    def loop(self, runs: int | None = None) -> None:
        """Run the program every `every` seconds (forever, or `runs` times), serving requests."""
        due = time.monotonic()
        while not self.stopping and (runs is None or self.runs < runs):
            now = time.monotonic()
            if now >= due:
                self.run_once()
                due = max(due + self.every, time.monotonic())
                continue
            self.serve(due - now)

    def serve(self, wait: float) -> None:
        """Answer the hub's requests for up to `wait` seconds."""
        if self.channel is None:
            time.sleep(wait)
            return
        try:
            number, f = self.channel.requests.get(timeout=wait)
        except queue.Empty:
            return
        if number != self.channel.opened:
            return                      # asked on a channel that has closed since
        self.answer(f)

    def answer(self, f: Frame) -> None:
        """Evaluate an inspect or apply request and send its result."""
        ch = self.channel
        assert ch is not None
        started = time.perf_counter()
        try:
            if f.type == "inspect":
                value = inspect(self.world, f.get("form"))
                what = "inspect"
            else:
                summary = apply(self.world, f, ch.hub_key)
                value = LispMap((Keyword(k), _data(v)) for k, v in summary.items())
                what = f"apply of {' '.join(summary['names'])}"
            ms = (time.perf_counter() - started) * 1000
            self.say(f"[hotfix] {what} {f.get('id')}: done in {ms:.1f} ms")
            ch.send("result", re_id=f.get("id"), value=value)
        except LispError as e:
            line = e.message if isinstance(e, HotfixRefused) else one_line(e)
            self.say(f"[hotfix] {f.type} {f.get('id')}: {line}")
            ch.send("result", re_id=f.get("id"), error=line)


def _data(v: Any) -> Any:
    if type(v) is list:
        from ..lisp.types import make_list
        return make_list([Symbol(x) if type(x) is str else x for x in v])
    return v


__all__ = ["Channel", "Runner", "check_hub", "production_signer", "read_token", "report_of"]
