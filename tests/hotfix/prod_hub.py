"""A small real hub for the production-side tests: a websockets server over TLS on loopback
that speaks world/hotfix/protocol.py, checks the token, records every frame it receives
(with the time it arrived) and lets a test send frames, forged ones included; and a
production process (`world serve-prod`) whose output lines are collected as they come."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from world.hotfix import protocol
from world.lisp.errors import MessageError
from world.objects.tls import server_context

REPO = Path(__file__).resolve().parents[2]
WAIT = 20.0         # generous bound on waiting for something that should come (never a timing assertion)


class Hub:
    """One hub; `conn` is the current connection's state."""

    def __init__(self, tls: str, token: str) -> None:
        from websockets.sync.server import serve
        self.token = token
        self.signer = protocol.ephemeral_signer()
        self.key = self.signer(b"")[0]
        self.frames: "queue.Queue[tuple[float, Any]]" = queue.Queue()
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.hellos: list[protocol.Frame] = []
        self.ws: Any = None
        self.seq = 0
        self.connected = threading.Event()
        self.server = serve(self._handle, "127.0.0.1", 0, ssl=server_context(tls),
                            compression=None, max_size=8 * protocol.MAX_FRAME,
                            ping_interval=None)
        self.port = self.server.socket.getsockname()[1]
        self.url = f"wss://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.server.serve_forever()
        except BaseException as e:
            self.errors.append(f"server: {type(e).__name__}: {e}")

    def _handle(self, ws: Any) -> None:
        try:
            self._talk(ws)
        except BaseException as e:          # the test reads it from `errors`
            self.errors.append(f"{type(e).__name__}: {e}")

    def _talk(self, ws: Any) -> None:
        inbound = protocol.Inbound()
        hello = inbound.accept(ws.recv(timeout=WAIT))
        self.hellos.append(hello)
        if hello.type != "hello" or hello.get("token") != self.token:
            ws.send(protocol.frame(self.signer, "close", 1, reason="refused: wrong token"))
            return
        self.seq = 0
        self.ws = ws
        self.send("welcome", hub=self.key)
        self.connected.set()
        for text in ws:
            try:
                self.frames.put((time.monotonic(), inbound.accept(text)))
            except MessageError as e:
                self.refused.append(str(e))
        self.connected.clear()

    def frame(self, kind: str, seq: int | None = None, **fields: Any) -> str:
        """A frame from this hub with the next seq (or `seq`), not sent."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        return protocol.frame(self.signer, kind, seq, **fields)

    def send(self, kind: str, **fields: Any) -> str:
        """Send the next frame; return its text (to replay it)."""
        text = self.frame(kind, **fields)
        self.ws.send(text)
        return text

    def wait(self, kind: str, timeout: float = WAIT, prod: "Prod | None" = None
             ) -> tuple[float, protocol.Frame]:
        """The next frame of type `kind` (others before it are dropped); on failure, say
        what `prod` printed."""
        end = time.monotonic() + timeout
        while True:
            try:
                at, f = self.frames.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                said = "" if prod is None else f"; production said: {prod.stop()!r}"
                raise AssertionError(f"no {kind} frame came; hellos {len(self.hellos)}, "
                                     f"refused {self.refused}, errors {self.errors}{said}"
                                     ) from None
            if f.type == kind:
                return at, f

    def result(self, re_id: Any, timeout: float = WAIT) -> protocol.Frame:
        """The result answering request `re_id`."""
        end = time.monotonic() + timeout
        while True:
            _, f = self.wait("result", max(0.01, end - time.monotonic()))
            if f.get("re-id") == re_id:
                return f

    def stop(self) -> None:
        self.server.shutdown()


class Prod:
    """A `world serve-prod` process; `lines` collects (time, line) of its output."""

    def __init__(self, image: Path, hub: Hub, tls: str, token_file: Path, *extra: str,
                 config: Path | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        if config is not None:
            env["WORLD_CONFIG_DIR"] = str(config)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "repl.cli", "serve-prod", str(image), "--hub", hub.url,
             "--tls", tls, "--token-file", str(token_file), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: "queue.Queue[tuple[float, str]]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float = WAIT) -> tuple[float, str]:
        """The next output line containing `text`."""
        end = time.monotonic() + timeout
        while True:
            try:
                at, line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r}; saw {self.seen[-8:]}") from None
            self.seen.append(line)
            if text in line:
                return at, line

    def stop(self) -> str:
        """Stop it (SIGTERM: it closes the channel and the image); the rest of its output."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        rest = list(self.seen)
        while not self.lines.empty():
            rest.append(self.lines.get()[1])
        return "\n".join(rest)
