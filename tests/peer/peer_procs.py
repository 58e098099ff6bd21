"""Worlds in their own processes for the peer tests: each with its own key directory
(WORLD_CONFIG_DIR), its own image, and `world peer serve` run as a child process."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60.0        # generous: the machine is shared; nothing asserts on time
READY = re.compile(r"^serving .* on (wss?://\S+) key ([0-9a-f]{64})")


def environment(config: Path) -> dict[str, str]:
    """The environment of a `world` process whose key lives under `config`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORLD_CONFIG_DIR=str(config))
    for name in ("WORLD_IMAGE", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "all_proxy", "ALL_PROXY"):
        env.pop(name, None)
    return env


class Peer:
    """One world: a directory with its key (`cfg/`) and its image (`world.fs`)."""

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "cfg"
        self.image = str(self.dir / "world.fs")
        self.env = environment(self.config)
        self.public = self.key()

    def key(self) -> str:
        """Make this world's key pair in-process (the same code `world keys init` runs)."""
        from world import keys
        old = os.environ.get("WORLD_CONFIG_DIR")
        os.environ["WORLD_CONFIG_DIR"] = str(self.config)
        try:
            return keys.init()
        finally:
            if old is None:
                del os.environ["WORLD_CONFIG_DIR"]
            else:
                os.environ["WORLD_CONFIG_DIR"] = old

    def signer(self) -> Callable[[bytes], tuple[str, str]]:
        """This world's signer, for sending from the test process as this world."""
        from world import keys
        old = os.environ.get("WORLD_CONFIG_DIR")
        os.environ["WORLD_CONFIG_DIR"] = str(self.config)
        try:
            return keys.signer()
        finally:
            if old is None:
                del os.environ["WORLD_CONFIG_DIR"]
            else:
                os.environ["WORLD_CONFIG_DIR"] = old

    def trust(self, other: "Peer | str", name: str, options: str = ":caps [:core] :steps 100000") -> None:
        """Record in this world's image that `other`'s key may send it programs."""
        import world
        key = other if isinstance(other, str) else other.public
        with world.open(self.image) as w:
            w.eval(f'(peer/trust "{key}" :name "{name}" {options})')

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run `world ARGS` as this world (its key, in its directory)."""
        return subprocess.run([sys.executable, "-m", "repl.cli", *args], cwd=self.dir,
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def serve(self, *extra: str) -> "Served":
        """`world peer serve` on this world's image, on a free loopback port."""
        proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "peer", "serve",
                                 "--address", "127.0.0.1:0", "--world", self.image, *extra],
                                cwd=self.dir, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        return Served(proc)


class Served:
    """A running `world peer serve` child: its address once it said it listens."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: "queue.Queue[str | None]" = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.address, self.key = self._ready()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _ready(self) -> tuple[str, str]:
        try:
            line = self.lines.get(timeout=START_SECONDS)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("the peer server did not say it was serving") from None
        m = READY.match(line or "")
        if m is None:
            self.proc.kill()
            self.proc.wait(timeout=START_SECONDS)
            err = self.proc.stderr.read() if self.proc.stderr is not None else ""
            raise AssertionError(f"the peer server did not start: {line!r} {err}")
        return m.group(1), m.group(2)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Stop it with `sig`; its exit status and what it wrote on stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the peer server did not stop") from None
        assert self.proc.stderr is not None and self.proc.stdout is not None
        err = self.proc.stderr.read()
        self.proc.stderr.close()
        self.pump.join(START_SECONDS)
        self.proc.stdout.close()
        return self.proc.returncode, err

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc.poll() is None:
            self.stop()


def served(peer: Peer, *extra: str) -> Iterator[Served]:
    """A fixture body: `peer` serving for the test, stopped afterwards."""
    s = peer.serve(*extra)
    try:
        yield s
    finally:
        if s.alive():
            s.stop()
