"""A port past 65535 is one error line for every command that listens or connects (not a bind() traceback)."""
from __future__ import annotations

import pytest

from repl.cli import main


@pytest.mark.parametrize("argv", [
    ["peer", "serve", "--memory", "--address", "127.0.0.1:99999"],
    ["agent", "serve", "examples/counter.lispy", "--memory", "--address", "127.0.0.1:99999"],
    ["hub", "--memory", "--listen", "127.0.0.1:99999", "--tls", "."],
    ["serve", "--address", "127.0.0.1:99999"],
    ["eval", "--zeo", "127.0.0.1:99999", "1"],
])
def test_a_port_past_65535_is_one_line(argv: list[str], tmp_path, monkeypatch, capsys) -> None:
    from world import keys
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("WORLD_IMAGE", str(tmp_path / "w.fs"))
    keys.init()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "99999" in err and "up to 65535" in err, err
