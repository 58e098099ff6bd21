"""Hot-fix channel latency: error in production -> report in development, accept -> fix running.

    python bench/bench_hotfix.py [--runs 5] [--every 0.5] [--quick]

Every run starts afresh, with real processes on loopback: a development world
made by `world eval` (a definition that fails for 0, its check, a `main` that
calls it with 0, committed), `world build-prod` of it, `world serve` sharing the
development world over ZEO, `world hub --zeo ... --tls` (wss://, a token), and
`world serve-prod` running `(main)` every `--every` seconds. This script opens
the development world through the same ZEO server, as a REPL would.

Figure 1, error -> report: from the moment production's `[run N] error:` line is
read to the moment `(hotfix/pending)` in the development world lists the report
(polled every 20 ms). It covers production dialling the hub (TLS, hello, token
check, welcome), the report frame, the hub storing it, and ZEO telling us.

Figure 2, accept -> fix running: from the call of `(hotfix/accept ID)` (the fix
was proposed beforehand through `(hotfix/propose ID)` by the real `anthropic`
SDK against tests/evolve/messages_server.py, scripted to answer with the fix;
proposing is not timed) to the moment production prints its first run whose
value is the fixed one. It is bounded by the accept itself, the hub's look at
the world (every world.hotfix.hub.POLL s), the apply in production, and the
wait for production's next run (at most `--every` s): both bounds are printed.

The reference, measured in the same runs against the same hub: a TLS WebSocket
connect, a signed hello with the token and the hub's welcome (the dial that
figure 1 includes), and production's run interval (which bounds figure 2).
Every wait has a timeout; every process started is stopped, even on failure.
"""
from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "evolve"))
sys.path.insert(0, os.path.join(ROOT, "tests", "hotfix"))

TOKEN = "bench-hotfix-token-0123456789"
DEV = """
(define (ratio x) "Ten divided by x." (/ 10 x))
(define (main) "Run." (ratio 0))
(check 5 (ratio 2))
(commit "ratio and main")
"""
FIX = '```lisp\n(define (ratio x) "Ten divided by x, 0 for 0." (if (= x 0) 0 (/ 10 x)))\n```\n'
FIXED_RUN = re.compile(r"^\[run \d+\] 0$")     # a run of (main) with the fix returns 0
WAIT = 90.0         # seconds: a generous bound on anything that should come (the box is shared)
START = 180.0       # seconds: a one-shot command (eval, build-prod, tls-init, keys init)
POLL_PENDING = 0.02
HELLOS = 5          # reference hellos per run


class Failure(Exception):
    """The bench could not go on: one line saying what did not come."""


class Proc:
    """A `world ...` process whose output lines are read, with when each was read."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen([sys.executable, "-m", "repl.cli", *args], cwd=ROOT,
                                     env=dict(env, PYTHONUNBUFFERED="1"),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: "queue.Queue[tuple[float, str] | None]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put(None)                    # end of output: the process has gone

    def wait_for(self, match: Callable[[str], bool], what: str,
                 timeout: float = WAIT) -> tuple[float, str]:
        """The next line `match` accepts, and when it was read; Failure after `timeout`."""
        end = time.monotonic() + timeout
        while True:
            try:
                got = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                raise Failure(f"{self.name}: no {what} within {timeout:g} s; last lines: "
                              f"{self.seen[-6:]}") from None
            if got is None:
                self.lines.put(None)
                raise Failure(f"{self.name} exited ({self.proc.poll()}) before {what}; "
                              f"last lines: {self.seen[-6:]}")
            self.seen.append(got[1])
            if match(got[1]):
                return got

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not gone within 15 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


def once(args: list[str], env: dict[str, str]) -> str:
    """Run a one-shot `world ...` command; its output, or Failure."""
    try:
        r = subprocess.run([sys.executable, "-m", "repl.cli", *args], cwd=ROOT, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=START)
    except subprocess.TimeoutExpired:
        raise Failure(f"world {args[0]} took more than {START:g} s") from None
    if r.returncode != 0:
        raise Failure(f"world {' '.join(args[:2])} failed: {(r.stdout + r.stderr).strip()[-400:]}")
    return r.stdout


def field(m: Any, name: str) -> Any:
    from world.lisp.types import Keyword
    return m.get(Keyword(name))


def hello_round_trip(uri: str, tls: str, n: int) -> float:
    """Seconds for one TLS WebSocket connect, signed hello with the token and the welcome."""
    from hub_support import Prod as HelloClient
    t = time.perf_counter()
    c = HelloClient(uri, tls)
    try:
        answer = c.hello(f"bench-reference-{n}", "0" * 64, TOKEN)
        took = time.perf_counter() - t
    finally:
        c.close()
    if answer.type != "welcome":
        raise Failure(f"the hub answered the reference hello with {answer.type}")
    return took


def one_run(k: int, tmp: str, tls: str, base_env: dict[str, str], every: float, model: Any,
            procs: list[Proc]) -> dict[str, Any]:
    """Everything afresh: return this run's figures (seconds)."""
    import world
    from world.lisp.types import to_pylist
    d = os.path.join(tmp, f"run{k}")
    os.makedirs(d)
    dev_image, prod_image = os.path.join(d, "dev.fs"), os.path.join(d, "prod.fs")
    hub_env = dict(base_env, WORLD_CONFIG_DIR=os.path.join(tmp, "hub-config"))
    prod_env = dict(base_env, WORLD_CONFIG_DIR=os.path.join(tmp, "prod-config"))
    once(["eval", "--world", dev_image, DEV], hub_env)
    once(["build-prod", dev_image, prod_image], hub_env)
    zeo = Proc("world serve", ["serve", "--world", dev_image, "--address", "127.0.0.1:0"],
               hub_env)
    procs.append(zeo)
    _, line = zeo.wait_for(lambda s: s.startswith("serving "), "serving line")
    address = line.rsplit(" on ", 1)[1].split()[0]
    hub = Proc("world hub", ["hub", "--zeo", address, "--listen", "127.0.0.1:0", "--tls", tls,
                             "--token-file", os.path.join(tmp, "token")], hub_env)
    procs.append(hub)
    _, line = hub.wait_for(lambda s: s.startswith("hub listening on "), "listening line")
    uri = line.split()[3]
    dev = world.open(zeo=address)
    try:
        prod = Proc("world serve-prod", ["serve-prod", prod_image, "--hub", uri, "--tls", tls,
                                         "--token-file", os.path.join(tmp, "token"),
                                         "--every", f"{every:g}"], prod_env)
        procs.append(prod)
        failed_at, _ = prod.wait_for(lambda s: "] error:" in s, "failing run")
        end = time.monotonic() + WAIT
        while not (pending := to_pylist(dev.eval("(hotfix/pending)"))):
            if time.monotonic() > end:
                raise Failure(f"no report reached (hotfix/pending) within {WAIT:g} s; "
                              f"production said {prod.seen[-6:]}")
            time.sleep(POLL_PENDING)
        reported_at = time.monotonic()
        n = field(pending[0], "id")
        model.add(_good(FIX))
        dev.eval(f"(hotfix/propose {n})")
        accepted_at = time.monotonic()
        dev.eval(f"(hotfix/accept {n})")
        accept_done = time.monotonic()
        applied_at, line = prod.wait_for(lambda s: s.startswith("[hotfix] apply"), "apply line")
        if not line.startswith("[hotfix] apply of "):
            raise Failure(f"production refused the fix: {line}")
        fixed_at, _ = prod.wait_for(lambda s: bool(FIXED_RUN.match(s)), "run with the fix")
        end = time.monotonic() + WAIT
        while field(dev.eval(f"(hotfix/show {n})"), "status") != "applied":
            if time.monotonic() > end:
                raise Failure(f"report {n} not marked applied within {WAIT:g} s")
            time.sleep(POLL_PENDING)
        hellos = [hello_round_trip(uri, tls, k * HELLOS + i) for i in range(HELLOS)]
    finally:
        dev.close()
    return {"report": reported_at - failed_at, "accept": accept_done - accepted_at,
            "applied": applied_at - accepted_at, "fixed": fixed_at - accepted_at,
            "hello": statistics.median(hellos)}


def _good(text: str) -> dict[str, Any]:
    from messages_server import good
    return good(text)


def row(label: str, xs: list[float]) -> str:
    ms = [x * 1000 for x in xs]
    return (f"  {label:<44} {statistics.median(ms):8.0f} {min(ms):8.0f} {max(ms):8.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh setups measured (default 5)")
    ap.add_argument("--every", type=float, default=0.5,
                    help="production's run interval, seconds (serve-prod --every; default 0.5)")
    ap.add_argument("--quick", action="store_true", help="2 runs")
    args = ap.parse_args()
    if args.quick:
        args.runs = 2
    if args.runs < 1 or not 0 < args.every <= 60:
        ap.error("--runs must be at least 1 and --every in (0, 60]")
    from messages_server import MessagesServer

    from world.hotfix.hub import POLL
    from world.lisp.errors import Interrupted, LispError
    from world.objects.errors import ImageError

    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt         # so that `finally` stops every process on SIGTERM too
    signal.signal(signal.SIGTERM, interrupted)
    procs: list[Proc] = []
    results: list[dict[str, Any]] = []
    code = 0
    model = MessagesServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-hotfix-") as tmp:
            base_env = dict(os.environ, PYTHONPATH=ROOT)
            for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "WORLD_MODEL"):
                base_env.pop(var, None)         # the processes never call a model
            tls = os.path.join(tmp, "tls")
            once(["tls-init", tls], base_env)
            for who in ("hub", "prod"):
                once(["keys", "init"], dict(base_env,
                                           WORLD_CONFIG_DIR=os.path.join(tmp, f"{who}-config")))
            token = os.path.join(tmp, "token")
            with open(os.open(token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(TOKEN + "\n")
            # This process proposes and accepts: the model is the scripted loopback server.
            os.environ.update(ANTHROPIC_API_KEY="sk-bench", ANTHROPIC_BASE_URL=model.url,
                              WORLD_CONFIG_DIR=os.path.join(tmp, "hub-config"))
            os.environ.pop("WORLD_MODEL", None)
            for k in range(args.runs):
                try:
                    results.append(one_run(k, tmp, tls, base_env, args.every, model, procs))
                finally:
                    while procs:
                        procs.pop().stop()      # production, then the hub, then ZEO
    except (Failure, LispError, ImageError) as e:
        said = f"run {len(results) + 1} failed: {e}"
        print("interrupted" if isinstance(e, Interrupted) else " ".join(said.split()))
        code = 1
    except KeyboardInterrupt:
        print("interrupted")
        code = 1
    finally:
        while procs:
            procs.pop().stop()
        model.stop()
    if not results:
        return code or 1
    col = lambda key: [r[key] for r in results]  # noqa: E731
    print(f"hot-fix channel: {len(results)} run(s), each with fresh processes on loopback over "
          f"TLS (world serve, world hub --zeo, world serve-prod)")
    print(f"settings: production runs (main) every {args.every:g} s; the hub looks for queued "
          f"applies every {POLL:g} s; this script polls (hotfix/pending) every "
          f"{POLL_PENDING * 1000:.0f} ms")
    print(f"  {'ms':<44} {'median':>8} {'min':>8} {'max':>8}")
    print(row("error -> report listed by (hotfix/pending)", col("report")))
    print(row("accept -> fix running in production", col("fixed")))
    print(row("  of which (hotfix/accept) itself", col("accept")))
    print(row("  accept -> apply done in production", col("applied")))
    print(f"reference, same runs: TLS WebSocket connect + signed hello + welcome to the same hub "
          f"(median of {HELLOS} per run)")
    print(row("connect + hello round trip", col("hello")))
    hello = statistics.median(col("hello"))
    report, fixed = statistics.median(col("report")), statistics.median(col("fixed"))
    accept = statistics.median(col("accept"))
    print(f"  error -> report        = {report / hello:.1f}x a connect + hello round trip")
    print(f"  accept -> fix running  = {fixed / args.every:.2f}x production's run interval "
          f"(bound: accept {accept * 1000:.0f} ms + hub poll {POLL:g} s + apply + one "
          f"interval {args.every:g} s = {(accept + POLL + args.every) * 1000:.0f} ms + apply)")
    return code


if __name__ == "__main__":
    sys.exit(main())
