"""Sharing a world: a ZEO server on an image, so several processes (or
machines) can open the same world at once.

`serve` runs a server in this process until it is interrupted; `Server`
runs one in a child process and stops it again, for tests and tools.
A server listens beyond loopback only over TLS with client certificates
(tls.py): a ZEO client can store any record and call any storage method.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any, Callable

from .errors import ImageError
from .image import Image
from .storage import file_storage, parse_address

DEFAULT_ADDRESS = "127.0.0.1:8100"
START_SECONDS = 30.0


def make_server(path: str, address: str = DEFAULT_ADDRESS, tls: str | None = None) -> Any:
    """A ZEO storage server for the image at `path`, listening on `address` (port 0: any),
    over TLS with the certificates in the directory `tls` if given."""
    from ZEO.StorageServer import StorageServer
    from .tls import is_loopback, server_context
    host, port = parse_address(address)
    if tls is None and not is_loopback(host):
        raise ImageError(f"refusing to serve on {address} without TLS: any client could "
                         f"change the world; give --tls DIR (made by `world tls-init DIR`), "
                         f"or a loopback address such as 127.0.0.1:{port}")
    ctx = server_context(tls) if tls is not None else None
    Image.open(path).close()           # create the world root before any client races to
    storage = file_storage(path)
    storage.pack_keep_old = False      # a client's pack drops old revisions: no `.old` copy stays
    try:
        return StorageServer((host, port), {"1": storage}, ssl=ctx)
    except OSError as e:
        storage.close()
        raise ImageError(f"cannot listen on {address} ({e.strerror or e}): "
                         f"choose another address with --address") from None


def address_of(server: Any) -> str:
    """A server's address as HOST:PORT."""
    host, port = server.acceptor.addr[:2]
    return f"{host}:{port}"


def serve(path: str, address: str = DEFAULT_ADDRESS,
          ready: Callable[[str], Any] | None = None, tls: str | None = None) -> None:
    """Serve the image at `path` on `address` until interrupted; `ready` gets the address."""
    server = make_server(path, address, tls)
    try:
        if ready is not None:
            ready(address_of(server))
        server.loop()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


_CHILD = ("import logging, sys\n"
          "logging.getLogger().addHandler(logging.NullHandler())   # nobody reads the pipe\n"
          "from world.objects.server import serve\n"
          "serve(sys.argv[1], sys.argv[2], ready=lambda a: print(a, flush=True),\n"
          "      tls=sys.argv[3] if len(sys.argv) > 3 else None)\n")


class Server:
    """A ZEO server on an image, running in a child process."""

    def __init__(self, path: str, address: str | None = None, tls: str | None = None) -> None:
        address = address or f"127.0.0.1:{free_port()}"
        self.tls = tls
        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen([sys.executable, "-c", _CHILD, path, address,
                                      *([tls] if tls else [])],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        line = self.proc.stdout.readline().strip()
        if not line:
            err = self.proc.stderr.read().strip().splitlines()
            self.proc.wait()
            raise ImageError(f"the ZEO server for {path} did not start: "
                             f"{err[-1] if err else 'no output'}")
        self.address = line
        self._wait_listening(START_SECONDS)

    def _wait_listening(self, seconds: float) -> None:
        host, port = parse_address(self.address)
        deadline = time.monotonic() + seconds
        while True:
            try:
                socket.create_connection((host, port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ImageError(f"the ZEO server at {self.address} does not answer") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
