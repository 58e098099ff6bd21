"""The `world` command on images and servers: `world serve`, `--zeo`, and bad
images, each run as real processes (a real ZEO server on a free loopback port)."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from world.objects.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """The environment of a child `world` that imports this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def world_cli(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run `world ARGS` in `cwd` and wait for it."""
    env = child_env()
    env.pop("WORLD_IMAGE", None)
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def one_error(proc: subprocess.CompletedProcess) -> str:
    """The process failed with exactly one `error:` line and no traceback; return it."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), proc.stderr
    assert len([x for x in lines if x.startswith("error:")]) == 1, proc.stderr
    return lines[0]


class Served:
    """`world serve` running as a child process."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = child_env()
        env.pop("WORLD_IMAGE", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "serve", *args], cwd=cwd,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.line = self.proc.stdout.readline()
        found = re.search(r" on (\S+:\d+) ", self.line)
        if not found:
            self.proc.wait(30)
            raise AssertionError(f"world serve did not start: {self.line}{self.proc.stderr.read()}")
        self.address = found.group(1)
        host, port = self.address.rsplit(":", 1)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server does not answer"
                time.sleep(0.05)

    def stop(self) -> int:
        """Stop the server as `kill` would; return its exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`world serve --world img/shared.fs` on a free port, stopped after the test."""
    server = Served(tmp_path, "--world", "img/shared.fs", "--address", f"127.0.0.1:{free_port()}")
    try:
        yield server
    finally:
        server.stop()


LOOP = "(define ({me}-def i) (eval (list 'define (string->symbol (string-append \"{me}-\" " \
       "(number->string i))) i)))\n(for-each {me}-def (iota 30))\n"


def test_serve_and_two_zeo_clients(tmp_path: Path, served: Served) -> None:
    assert "img/shared.fs" in served.line
    zeo = ("--zeo", served.address)
    assert world_cli(tmp_path, "eval", *zeo, "(define shared (box 1))").returncode == 0
    # Two client processes at once, each defining its own names.
    for me in ("a", "b"):
        (tmp_path / f"{me}.lisp").write_text(LOOP.format(me=me))
    env = child_env()
    clients = [subprocess.Popen([sys.executable, "-m", "repl.cli", "run", *zeo, f"{me}.lisp"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for me in ("a", "b")]
    for c in clients:
        _, err = c.communicate(timeout=120)
        assert c.returncode == 0, err
    proc = world_cli(tmp_path, "eval", *zeo, "(list (unbox shared) a-29 b-29 (+ a-7 b-8))")
    assert proc.stdout == "(1 29 29 15)\n", proc.stderr
    # The REPL over ZEO sees and changes the same world.
    proc = world_cli(tmp_path, "repl", *zeo, stdin="(set-box! shared (+ a-1 b-2))\n")
    assert proc.returncode == 0, proc.stderr
    assert world_cli(tmp_path, "eval", *zeo, "(unbox shared)").stdout == "3\n"
    # While served, the image is the server's; afterwards it is an ordinary image.
    line = one_error(world_cli(tmp_path, "eval", "--world", "img/shared.fs", "1"))
    assert "in use by another process" in line and "--zeo" in line
    assert served.stop() == 0
    proc = world_cli(tmp_path, "eval", "--world", "img/shared.fs", "(+ (unbox shared) b-29)")
    assert proc.stdout == "32\n", proc.stderr


def test_serve_on_a_busy_address(tmp_path: Path, served: Served) -> None:
    proc = world_cli(tmp_path, "serve", "--world", "other.fs", "--address", served.address)
    line = one_error(proc)
    assert served.address in line and "--address" in line


def test_zeo_with_no_server(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    line = one_error(world_cli(tmp_path, "eval", "--zeo", address, "1"))
    assert address in line and "world serve" in line


def test_a_bad_zeo_address(tmp_path: Path) -> None:
    assert "HOST:PORT" in one_error(world_cli(tmp_path, "eval", "--zeo", "nowhere", "1"))


# ---------------------------------------------------------------- bad images

def test_not_a_zodb_file(tmp_path: Path) -> None:
    (tmp_path / "notes.fs").write_text("my notes\n")
    line = one_error(world_cli(tmp_path, "eval", "--world", "notes.fs", "1"))
    assert str(tmp_path / "notes.fs") in line and "not a world image" in line and "another path" in line
    assert (tmp_path / "notes.fs").read_text() == "my notes\n"


def test_a_truncated_image(tmp_path: Path) -> None:
    assert world_cli(tmp_path, "eval", "(define x (iota 100))").returncode == 0
    image = tmp_path / "images" / "world.fs"
    cut = image.read_bytes()[:-300]
    image.write_bytes(cut)
    for args in (("eval", "x"), ("run", "--world", str(image), os.devnull)):
        line = one_error(world_cli(tmp_path, *args))
        assert str(image) in line and "truncated" in line and "backup" in line
    assert image.read_bytes() == cut


def test_a_locked_image(tmp_path: Path) -> None:
    assert world_cli(tmp_path, "eval", "(define x 1)").returncode == 0
    holder = subprocess.Popen([sys.executable, "-m", "repl.cli", "repl"], cwd=tmp_path,
                              env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        holder.stdin.write('(display "open") (newline)\n')
        holder.stdin.flush()
        deadline = time.monotonic() + 60
        while "open" not in holder.stdout.readline():
            assert time.monotonic() < deadline
        line = one_error(world_cli(tmp_path, "eval", "x"))
        assert str(tmp_path / "images" / "world.fs") in line
        assert "in use by another process" in line and "world serve" in line
    finally:
        holder.stdin.close()
        holder.wait(60)
        holder.stdout.close()
        holder.stderr.close()
    assert world_cli(tmp_path, "eval", "x").stdout == "1\n"


def test_a_read_only_directory(tmp_path: Path, read_only_dir: Path) -> None:
    line = one_error(world_cli(tmp_path, "eval", "--world", str(read_only_dir / "world.fs"), "1"))
    assert str(read_only_dir / "world.fs") in line and "--world PATH" in line


def test_a_directory_given_as_the_image(tmp_path: Path) -> None:
    line = one_error(world_cli(tmp_path, "eval", "--world", str(tmp_path), "1"))
    assert "is a directory" in line and str(tmp_path) in line
