"""A lost ZEO server: each form fails with one `ServerLost` line within `--zeo-timeout`,
the form is rolled back whole, and the session goes on once the server is back on the
same port and file. Real servers in child processes, stopped and restarted by the tests."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from typing import Any, Iterator

import pytest

import world
from world.objects.errors import ImageError, ServerLost
from world.objects.server import Server, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 1.0
SLACK = 5.0             # generous: the bound that matters is "not ZEO's own 10 s, not forever"


class Restartable:
    """A ZEO server on one image that a test stops and starts again on the same port."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.server: Server | None = Server(image)
        self.address = self.server.address

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def start(self) -> None:
        self.server = Server(self.image, self.address)


@pytest.fixture
def server(image: str) -> Iterator[Restartable]:
    s = Restartable(image)
    try:
        yield s
    finally:
        s.stop()


def timed_failure(w: Any, text: str) -> tuple[ServerLost, float]:
    """Evaluate `text`, which must fail with `ServerLost`; return the error and seconds taken."""
    started = time.monotonic()
    with pytest.raises(ServerLost) as caught:
        w.eval(text)
    return caught.value, time.monotonic() - started


def test_a_lost_server_is_one_line_within_the_timeout_and_the_session_reconnects(
        server: Restartable) -> None:
    with world.open(zeo=server.address, zeo_timeout=TIMEOUT) as w:
        w.eval("(define a 1) (define (f) (+ a 1))")
        server.stop()
        err, took = timed_failure(w, "(define b (f))")
        assert took < TIMEOUT + SLACK
        text = str(err)
        assert "\n" not in text and server.address in text and "not committed" in text
        _, again = timed_failure(w, "(define b (f))")        # still gone: no second long wait
        assert again < TIMEOUT + SLACK
        server.start()
        assert w.eval("(define b (f)) (list a b)") == world.read("(1 2)")
    with world.open(zeo=server.address) as other:               # a fresh client sees it all
        assert world.write(other.eval("(list a b (f))")) == "(1 2 2)"


def test_a_server_lost_while_committing_rolls_the_form_back(server: Restartable) -> None:
    with world.open(zeo=server.address, zeo_timeout=TIMEOUT) as w:
        w.eval("(define a 1) (define b 2) (define (bump!) (set! a 10) (set! b 20) 'done)")
        commit = w.image.commit

        def commit_after_losing_the_server(*args: Any, **kw: Any) -> None:
            server.stop()                          # between the form's work and its commit
            commit(*args, **kw)

        w.image.commit = commit_after_losing_the_server
        err, took = timed_failure(w, "(begin (define c 3) (bump!))")     # one transaction
        assert took < TIMEOUT + SLACK and "not committed" in str(err)
        w.image.commit = commit
        server.start()
        # the environment is the stored world again, not the form's half-done work
        assert world.write(w.eval("(list a b)")) == "(1 2)"
        with pytest.raises(world.LispError, match="unbound variable: c"):
            w.eval("c")
        assert world.write(w.eval("(bump!) (list a b)")) == "(10 20)"


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP")
def test_a_hung_server_fails_the_form_within_the_timeout_too(server: Restartable) -> None:
    """A server that stops answering with its connection up (hung, or cut off without a
    reset) is lost as well: ZEO itself would wait for its answer for good."""
    with world.open(zeo=server.address, zeo_timeout=TIMEOUT) as w:
        w.eval("(define a 1)")
        pid = server.server.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            err, took = timed_failure(w, "(define b 2)")
            assert took < TIMEOUT + SLACK and "not committed" in str(err)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert world.write(w.eval("(define b 2) (list a b)")) == "(1 2)"


def test_the_repl_says_so_stays_alive_and_shows_the_server_lost(server: Restartable) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from prompt_toolkit.output.plain_text import PlainTextOutput
    from repl import toolbar
    from repl.session import Repl
    out = io.StringIO()
    with world.open(zeo=server.address, zeo_timeout=TIMEOUT) as w, create_pipe_input() as pipe:
        repl = Repl(w, input=pipe, output=DummyOutput(), show_output=PlainTextOutput(out))
        assert repl.handle("(define a 41)")
        server.stop()
        assert repl.handle("(+ a 1)")                    # the session goes on
        shown = out.getvalue()
        assert f"lost the ZEO server at {server.address}" in shown and "reconnecting" in shown
        assert "internal error" not in shown and "Traceback" not in shown
        # The client notices the loss on its own thread, so the toolbar may lag a moment behind
        # the form that failed; each look at it must still be quick.
        deadline = time.monotonic() + TIMEOUT + SLACK
        while True:
            started = time.monotonic()
            bar = toolbar.text(w, None, 100)
            assert time.monotonic() - started < TIMEOUT + SLACK    # the toolbar never waits long
            if "disconnected" in bar or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert "disconnected" in bar, bar
        server.start()
        assert repl.handle("(+ a 1)")
        assert out.getvalue().rstrip().endswith("42")
        assert "disconnected" not in toolbar.text(w, None, 100)


def test_opening_with_no_server_is_one_line_at_once() -> None:
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ImageError, match="no ZEO server answers at"):
        world.open(zeo=address, zeo_timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT + SLACK


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "10", True])
def test_a_bad_zeo_timeout_is_refused(bad: Any) -> None:
    with pytest.raises(ImageError, match="bad ZEO timeout"):
        world.open(zeo=f"127.0.0.1:{free_port()}", zeo_timeout=bad)


def test_a_zeo_timeout_without_zeo_is_refused(image: str) -> None:
    with pytest.raises(ImageError, match="ZEO timeout is for a ZEO server"):
        world.open(image, zeo_timeout=1)


def world_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    path = os.pathsep.join(filter(None, (ROOT, os.environ.get("PYTHONPATH"))))
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_cli_with_no_server_is_one_line_quickly() -> None:
    started = time.monotonic()
    proc = world_cli("eval", "--zeo", f"127.0.0.1:{free_port()}", "--zeo-timeout", "1", "(+ 1 2)")
    assert time.monotonic() - started < TIMEOUT + SLACK + 5      # + a Python start-up
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "no ZEO server answers" in proc.stderr


def test_cli_zeo_timeout_flag(server: Restartable, capsys: pytest.CaptureFixture[str]) -> None:
    from repl.cli import main
    assert main(["eval", "--zeo", server.address, "--zeo-timeout", "2.5",
                 "(define z 7) (* z 6)"]) == 0
    assert capsys.readouterr().out.strip() == "42"
    for bad in ("0", "-3", "soon", "nan"):
        with pytest.raises(SystemExit) as exited:
            main(["eval", "--zeo", server.address, "--zeo-timeout", bad, "1"])
        assert exited.value.code == 2 and "--zeo-timeout" in capsys.readouterr().err
    assert main(["eval", "--memory", "--zeo-timeout", "1", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give --zeo HOST:PORT" in err
