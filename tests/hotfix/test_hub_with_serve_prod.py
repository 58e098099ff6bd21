"""The whole channel: a real `world serve-prod` process, a real `world hub` process, the
development world shared with this test through a real ZEO server, and the model reached
through the real `anthropic` SDK on the loopback Messages-API server. The two figures of the
issue are printed (pytest -s): error in production -> report listed in development, and
accept -> the fix running in production."""
from __future__ import annotations

import os
import sys
import time
from typing import Any

import world
from world.lisp.types import Keyword, to_pylist

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "evolve"))
from hub_support import Lines, start_hub, stop  # noqa: E402
from messages_server import MessagesServer, good  # noqa: E402

TOKEN = "the-hub-token-0123456789"
DEV = """
(define (ratio x) "Ten divided by x." (/ 10 x))
(define (main) "Run." (ratio 0))
(check 5 (ratio 2))
(commit "ratio and main")
"""
FIX = ('```lisp\n(define (ratio x) "Ten divided by x, 0 for 0." (if (= x 0) 0 (/ 10 x)))\n```\n')
WAIT = 30.0         # a generous bound on waiting for what should come, never a timing assertion


def field(m: Any, name: str) -> Any:
    return m.get(Keyword(name))


def test_error_in_production_to_fix_running_in_production(tmp_path: Any,
                                                          monkeypatch: Any) -> None:
    from world.objects import tls
    from world.objects.server import Server
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / "config"))
    from world import keys
    keys.init()
    tls_dir = str(tmp_path / "tls")
    tls.init(tls_dir)
    dev_image, prod_image = tmp_path / "dev.fs", tmp_path / "prod.fs"
    with world.open(str(dev_image)) as w:
        w.eval(DEV)
        w.eval(f'(world/build-prod "{prod_image}")')
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    server = Server(str(dev_image))
    model = MessagesServer([good(FIX)]).start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", model.url)
    hub, uri = start_hub(["--zeo", server.address, "--listen", "127.0.0.1:0", "--tls", tls_dir,
                          "--token-file", str(token)], dict(os.environ))
    prod = Lines(["serve-prod", str(prod_image), "--hub", uri, "--tls", tls_dir,
                  "--token-file", str(token), "--every", "0.3"], dict(os.environ))
    dev = world.open(zeo=server.address)
    try:
        failed_at, _ = prod.wait_for("error:")
        deadline = time.monotonic() + WAIT
        while not to_pylist(dev.eval("(hotfix/pending)")):
            assert time.monotonic() < deadline, f"no report reached the hub; {prod.seen}"
            time.sleep(0.02)
        reported_at = time.monotonic()
        (r,) = to_pylist(dev.eval("(hotfix/pending)"))
        n = field(r, "id")
        shown = dev.eval(f"(hotfix/show {n})")
        assert "division by zero" in field(shown, "message")
        names = [field(d, "name") for d in to_pylist(field(shown, "definitions"))]
        assert "ratio" in names
        dev.eval(f"(hotfix/inspect {n} '(prod/names))")
        deadline = time.monotonic() + WAIT
        while True:
            (i,) = to_pylist(field(dev.eval(f"(hotfix/show {n})"), "inspections"))
            if field(i, "status") != "sent" and field(i, "status") != "queued":
                break
            assert time.monotonic() < deadline, f"no answer to inspect; {prod.seen}"
            time.sleep(0.05)
        assert field(i, "status") == "answered" and "ratio" in field(i, "value"), i
        diff = dev.eval(f"(hotfix/propose {n})")
        assert "(if (= x 0) 0 (/ 10 x))" in diff
        accepted_at = time.monotonic()
        dev.eval(f"(hotfix/accept {n})")
        prod.wait_for("[hotfix] apply")
        fixed_at, line = prod.wait_for("] 0")           # a run of (main) now returns 0
        deadline = time.monotonic() + WAIT
        while field(dev.eval(f"(hotfix/show {n})"), "status") != "applied":
            assert time.monotonic() < deadline, dev.eval(f"(hotfix/show {n})")
            time.sleep(0.05)
        print(f"\nerror in production -> report listed in development: "
              f"{(reported_at - failed_at) * 1000:.0f} ms (polling every 20 ms); "
              f"accept -> fix running in production: {(fixed_at - accepted_at) * 1000:.0f} ms "
              f"(production runs every 300 ms)")
    finally:
        dev.close()
        prod.stop()
        err = stop(hub)
        model.stop()
        server.stop()
    assert "Traceback" not in err, err
    said = "".join(hub.said)
    assert f"[hub] report {n} from production" in said and "division by zero" in said
    assert "[hub] inspect 1 sent" in said and "[hub] apply 2 sent" in said
    assert "[hub] request 2: answered by production" in said
