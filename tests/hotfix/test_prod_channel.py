"""The production side of the hot-fix channel, end to end: a real `world serve-prod` process
and a small real hub (prod_hub.py) on loopback over TLS.

An error in production reaches the hub as a report (backtrace, definitions, head); inspect
reads production and refuses forbidden forms; apply refuses every bad fix with the old
definition still live, and a good fix is what the next run uses; the channel closes
when idle. The measured times are printed (run pytest with -s to see them).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import world
from world.hotfix import hotlog, protocol
from world.lisp.reader import read
from world.objects import tls as tlsmod

from prod_hub import REPO, Hub, Prod

TOKEN = "s3cret-token"
OLD_F = '(define (f x) "Scale." (/ 10 x))'
FIX_F = '(define (f x) "Scale." (if (= x 0) 0 (/ 10 x)))'
NEXT_F = '(define (f x) "Scale." (if (= x 0) 1 (/ 10 x)))'


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """TLS certificates, a token file, a production image of `main` calling a failing `f`,
    and the development commits of two later versions of `f` (FIX_F, then NEXT_F)."""
    d = tmp_path_factory.mktemp("hotfix-prod")
    tlsmod.init(str(d / "tls"))
    token = d / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    with world.open(str(d / "dev.fs")) as w:
        w.eval(OLD_F)
        w.eval('(define (main) "Run." (f 0))')
        w.eval('(commit "first")')
        w.eval(f'(world/build-prod "{d / "prod.fs"}")')
        head = w.image.root.history.head
        w.eval(FIX_F)
        fix = w.image.root.history.latest("f")
        w.eval(NEXT_F)
        nxt = w.image.root.history.latest("f")
        maps = {"fix": protocol.commit_map(fix), "next": protocol.commit_map(nxt)}
        fix_state, fix_hash = fix.state, fix.hash
    return {"dir": d, "tls": str(d / "tls"), "token": token, "prod": d / "prod.fs",
            "head": head, "fix": maps["fix"], "next": maps["next"], "fix_state": fix_state,
            "fix_hash": fix_hash, "config": d / "config"}


@pytest.fixture
def hub(built: dict[str, Any]) -> Iterator[Hub]:
    h = Hub(built["tls"], TOKEN)
    yield h
    h.stop()


def start(built: dict[str, Any], hub: Hub, tmp_path: Path, *extra: str) -> tuple[Prod, Path]:
    """A production process on a fresh copy of the production image."""
    image = tmp_path / "prod.fs"
    shutil.copy(built["prod"], image)
    return Prod(image, hub, built["tls"], built["token"], *extra, config=built["config"]), image


def check(name: str, source: str) -> Any:
    return read(f"{{:name {_q(name)} :source {_q(source)}}}")


def _q(text: str) -> str:
    from world.lisp.printer import write
    return write(text)


def test_prod_error_reaches_the_hub_and_inspect_reads_production(built, hub, tmp_path) -> None:
    prod, _ = start(built, hub, tmp_path, "--every", "0.3")
    try:
        failed_at, line = prod.wait_for("[run 1] error")
        assert "division by zero" in line
        arrived_at, report = hub.wait("error-report", prod=prod)
        hello = hub.hellos[0]
        assert hello.get("token") == TOKEN and hello.get("head") == built["head"]
        assert report.get("head") == built["head"] and "division by zero" in report.get("message")
        assert any("in f" in b for b in report.get("backtrace"))
        defs = {m.get(read(":name")): m for m in report.get("definitions")}
        assert set(defs) >= {"f", "main"}
        assert defs["f"].get(read(":source")) == OLD_F
        print(f"\nerror in production -> report at the hub: {(arrived_at - failed_at) * 1000:.1f} ms")

        hub.send("inspect", id=1, form=read("(list (prod/names) (prod/source 'f) (+ 1 2))"))
        value = hub.result(1).get("value")
        assert value.car.car.name == "f" and value.cdr.car == OLD_F and value.cdr.cdr.car == 3
        hub.send("inspect", id=2, form=read("(prod/state 'f)"))
        assert hub.result(2).get("value") == defs["f"].get(read(":state"))

        for i, form in enumerate(['(world/save "x")', "(eval '(define f 1))",
                                  '(peer/send "wss://x" 1)'], 3):
            hub.send("inspect", id=i, form=read(form))
            err = hub.result(i).get("error")
            assert err.startswith("inspect: refused:") and "capability" in err, err
        hub.send("inspect", id=9, form=read("(define f 1)"))        # only the fresh environment
        assert hub.result(9).get("value") is not None
        hub.send("inspect", id=10, form=read("(prod/source 'f)"))
        assert hub.result(10).get("value") == OLD_F                  # production untouched
        assert "error" in prod.wait_for("[run ")[1]
    finally:
        prod.stop()


def test_prod_apply_refuses_bad_fixes_then_applies_a_good_one(built, hub, tmp_path) -> None:
    prod, image = start(built, hub, tmp_path, "--every", "0.2")
    head, fix, nxt = built["head"], built["fix"], built["next"]
    good_checks = (check("f", "(check 0 (f 0))"), check("f", "(check 5 (f 2))"))
    try:
        hub.wait("error-report", prod=prod)

        def refused(i: int, expect: str, **fields: Any) -> None:
            hub.send("apply", id=i, **fields)
            err = hub.result(i).get("error")
            assert err is not None and expect in err, err

        refused(1, "check 1 for f failed", base=head, commits=(fix,),
                checks=(check("f", "(check 99 (f 2))"),))
        refused(2, "is not production's head", base=built["fix_hash"], commits=(nxt,),
                checks=good_checks)
        refused(3, "does not extend production's head", base=head, commits=(nxt,),
                checks=good_checks)
        h, par, fields = protocol.commit_fields(fix)
        fields["state"] = "0" * 64
        forged = _forge(par, fields)
        refused(4, "does not come out in the state", base=head, commits=(forged,),
                checks=good_checks)
        tampered = fix.assoc(read(":source"), FIX_F.replace("0 (/", "7 (/"))
        refused(5, "hash does not match", base=head, commits=(tampered,), checks=good_checks)

        # replayed and reordered frames: refused, and the channel goes on
        text = hub.send("inspect", id=6, form=read("(prod/source 'f)"))
        assert hub.result(6).get("value") == OLD_F
        hub.ws.send(text)
        assert "replayed" in hub.result(6).get("error")     # answered under the id it claimed
        hub.ws.send(hub.frame("inspect", seq=hub.seq + 2, id=7, form=1))
        assert "out of order" in hub.result(7).get("error")
        hub.ws.send("x" * (protocol.MAX_FRAME + 10_000))
        assert "larger than" in hub.result(0).get("error")
        hub.send("inspect", id=8, form=read("(prod/source 'f)"))
        assert hub.result(8).get("value") == OLD_F          # every refusal left the old f live
        assert "error" in prod.wait_for("[run ")[1]

        sent = time.monotonic()
        hub.send("apply", id=20, base=head, commits=(fix,), checks=good_checks)
        result = hub.result(20)
        answered = time.monotonic()
        assert result.get("error") is None, result.get("error")
        running, _ = prod.wait_for("] 0")               # main now returns (f 0) = 0
        print(f"\napply sent -> result at the hub: {(answered - sent) * 1000:.1f} ms; "
              f"-> the fix running in production: {(running - sent) * 1000:.1f} ms")
        hub.send("inspect", id=21, form=read("(prod/source 'f)"))
        assert hub.result(21).get("value") == FIX_F
        hub.send("apply", id=22, base=head, commits=(fix,), checks=good_checks)
        assert "is not production's head" in hub.result(22).get("error")   # applied once only
    finally:
        prod.stop()
    r = subprocess.run([sys.executable, "-m", "repl.cli", "serve-prod", "--log", str(image)],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert sum("refused:" in x for x in lines) == 5 + 1 and sum(x.endswith("applied") for x in lines) == 1
    with world.open(str(image)) as p:
        log = p.eval("(hotfix/log)")
        assert p.eval("(main)") == 0
        assert p.eval('(get (car (reverse (hotfix/log))) :outcome)') == "refused: :base " \
            + head[:12] + " is not production's head " + built["fix_hash"][:12]
        from world.history import views
        assert views.findings(p.image.root) == []       # the manifest follows the fix
    assert len(list(_items(log))) == 7


def _items(x: Any) -> Iterator[Any]:
    while x is not None:
        yield x.car
        x = x.cdr


def _forge(parent: str, fields: dict[str, Any]) -> Any:
    """A commit map with these fields and a hash that recomputes (a forger can do that)."""
    from world.lisp.types import Keyword, LispMap
    h = protocol.commit_hash(parent, fields)
    pairs = [(Keyword("hash"), h), (Keyword("parent"), parent)]
    for k, v in fields.items():
        if v is None:
            continue
        if k == "violations":
            v = tuple(tuple(r) for r in v)
        pairs.append((Keyword(k), v))
    return LispMap(pairs)


def test_prod_channel_closes_when_idle_and_reopens_on_the_next_error(built, hub, tmp_path) -> None:
    prod, _ = start(built, hub, tmp_path, "--every", "0.3", "--idle", "0.6")
    try:
        hub.wait("error-report", prod=prod)
        _, close = hub.wait("close")
        assert close.get("reason").startswith("idle")
        prod.wait_for("closed: idle")
        hub.wait("error-report", prod=prod)        # a later run fails again: a new channel, a new report
        assert len(hub.hellos) >= 2
    finally:
        prod.stop()


def test_prod_debug_open_keeps_the_program_running(built, hub, tmp_path) -> None:
    program = tmp_path / "program.scm"
    program.write_text('(debug/open "hello from production")\n(+ 40 2)\n')
    prod, _ = start(built, hub, tmp_path, "--every", "0.2", "--program", str(program))
    try:
        _, report = hub.wait("error-report", prod=prod)
        assert report.get("message") == "debug/open: hello from production"
        for n in (2, 3, 4):
            prod.wait_for(f"[run {n}] 42")          # runs go on while the channel is open
        assert len(hub.hellos) == 1                 # one channel, however often it is asked
    finally:
        prod.stop()


def test_prod_wrong_token_is_refused_and_production_runs_on(built, tmp_path) -> None:
    hub = Hub(built["tls"], "another-token")
    try:
        prod, _ = start(built, hub, tmp_path, "--every", "0.2")
        try:
            prod.wait_for("refused the channel: refused: wrong token")
            prod.wait_for("[run 3]")
        finally:
            prod.stop()
    finally:
        hub.stop()


def test_prod_command_line_refusals(built, tmp_path, capsys) -> None:
    from repl.cli import main
    loose = tmp_path / "loose"
    loose.write_text(TOKEN)
    loose.chmod(0o644)
    image = tmp_path / "p.fs"
    shutil.copy(built["prod"], image)
    base = ["serve-prod", str(image), "--tls", built["tls"]]
    cases = [(base + ["--hub", "ws://127.0.0.1:1", "--token-file", str(built["token"])],
              "plain ws://"),
             (base + ["--hub", "wss://127.0.0.1:1", "--token-file", str(loose)],
              "readable by others"),
             (["serve-prod", str(built["dir"] / "dev.fs"), "--tls", built["tls"], "--hub",
               "wss://127.0.0.1:1", "--token-file", str(built["token"])],
              "not a production image")]
    for argv, expect in cases:
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and expect in err[0], err
    assert main(["serve-prod", "--log", str(image)]) == 0
    assert "no hot-fixes yet" in capsys.readouterr().out
    key = "cd" * 32         # no hub answers at port 1: the runs go on without a channel
    assert main(base + ["--hub", "wss://127.0.0.1:1", "--token-file", str(built["token"]),
                        "--trust-hub", key, "--runs", "2", "--every", "0.05"]) == 0
    said = capsys.readouterr().out
    assert "[run 2] error" in said and "cannot reach the hub" in said
    with world.open(str(image)) as p:
        assert hotlog.trusted(p.image.root.settings) == {key: "hub"}
    with world.open(str(image)) as p:
        with pytest.raises(world.LispError, match="no hub"):
            p.eval("(debug/open)")
