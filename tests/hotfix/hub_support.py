"""A production stand-in for the hub's tests: it speaks the hot-fix protocol over TLS,
as `world serve-prod` does, with a key of its own held in memory."""
from __future__ import annotations

import os
import ssl
import subprocess
import sys
import threading
from typing import Any

from websockets.sync.client import connect

from world.hotfix import protocol as hp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tls_without_certificate(tls_dir: str) -> ssl.SSLContext:
    """A client context trusting DIR's authority but presenting no certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=os.path.join(tls_dir, "ca.pem"))
    return ctx


def raw_websocket(uri: str, tls_dir: str) -> ssl.SSLSocket:
    """A TLS socket to the hub that has done the WebSocket opening handshake by hand, for
    sending frames no client library would (a header announcing a huge payload, half a frame)."""
    import socket
    from world.objects.tls import client_context
    host, port = uri[len("wss://"):].rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=30)
    s = client_context(tls_dir).wrap_socket(raw, server_hostname=host)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return s


def text_frame_header(length: int) -> bytes:
    """A masked text frame's header announcing `length` bytes (mask all zero)."""
    import struct
    return bytes([0x81, 0xFF]) + struct.pack("!Q", length) + b"\0\0\0\0"


class Prod:
    """One production connection to the hub."""

    def __init__(self, uri: str, tls_dir: str, certificate: bool = True) -> None:
        from world.objects.tls import client_context
        ctx = client_context(tls_dir) if certificate else tls_without_certificate(tls_dir)
        self.ws = connect(uri, ssl=ctx, open_timeout=30, max_size=None, compression=None,
                          proxy=None).__enter__()      # closed by `close`
        self.out = hp.Outbound(hp.ephemeral_signer())
        self.key = self.out.signer(b"")[0]

    def send(self, kind: str, **fields: Any) -> str:
        """Send the next frame of type `kind`; return its text."""
        text = self.out.frame(kind, **fields)
        self.ws.send(text)
        return text

    def hello(self, image: str, head: str, token: str | None = None) -> hp.Frame:
        """Say hello; return the hub's answer (a welcome, or a close)."""
        self.send("hello", image=image, head=head, key=self.key, token=token)
        return self.recv()

    def recv(self, timeout: float = 20.0) -> hp.Frame:
        """The hub's next frame (its signature checked)."""
        return hp.parse(self.ws.recv(timeout))

    def close(self) -> None:
        self.ws.close()


def start_hub(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """A `world hub` process and the wss:// address its ready line names."""
    env = dict(env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "hub", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if not line.startswith("hub listening on "):
        proc.kill()
        raise AssertionError(f"the hub did not start: {line!r} {proc.stderr.read()[-2000:]}")
    proc.said = []              # type: ignore[attr-defined]
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()   # a full pipe blocks it
    return proc, line.split()[3]


def _drain(proc: subprocess.Popen) -> None:
    for line in proc.stdout:
        proc.said.append(line)  # type: ignore[attr-defined]


def stop(proc: subprocess.Popen) -> str:
    """Stop a hub process; return what it wrote to stderr."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stderr.read()


class Lines:
    """A process whose output lines are collected, with the time each was read."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        import queue
        import threading
        env = dict(env, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen([sys.executable, "-m", "repl.cli", *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        self.lines: "queue.Queue[tuple[float, str]]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        import time
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float = 30.0) -> tuple[float, str]:
        """The next output line containing `text` (and when it was read)."""
        import queue
        import time
        end = time.monotonic() + timeout
        while True:
            try:
                at, line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r}; saw {self.seen[-10:]}") from None
            self.seen.append(line)
            if text in line:
                return at, line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
