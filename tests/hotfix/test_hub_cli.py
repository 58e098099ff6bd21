"""`world hub` refuses what it cannot serve with one `error:` line, never a traceback."""
from __future__ import annotations

import socket
from typing import Any

import pytest

from repl.cli import main


@pytest.fixture
def setup(tmp_path: Any, monkeypatch: Any) -> dict[str, str]:
    from world import keys
    from world.objects import tls
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / "config"))
    tls.init(str(tmp_path / "tls"))
    keys.init()
    return {"tls": str(tmp_path / "tls"), "world": str(tmp_path / "dev.fs"), "dir": str(tmp_path)}


def run(capsys: Any, *args: str) -> tuple[int, str]:
    code = main(["hub", *args])
    err = capsys.readouterr().err
    return code, err


def test_tls_directory_must_exist(setup: dict, capsys: Any) -> None:
    code, err = run(capsys, "--world", setup["world"], "--tls", setup["dir"] + "/none",
                    "--listen", "127.0.0.1:0")
    assert code == 1 and err.startswith("error: --tls") and "tls-init" in err
    assert "Traceback" not in err


def test_a_short_or_missing_token_file_is_refused(setup: dict, capsys: Any, tmp_path: Any) -> None:
    short = tmp_path / "short"
    short.write_text("abc\n")
    code, err = run(capsys, "--world", setup["world"], "--tls", setup["tls"],
                    "--token-file", str(short), "--listen", "127.0.0.1:0")
    assert code == 1 and "must hold one line of 12" in err
    code, err = run(capsys, "--world", setup["world"], "--tls", setup["tls"],
                    "--token-file", str(tmp_path / "absent"), "--listen", "127.0.0.1:0")
    assert code == 1 and "cannot read the token file" in err


def test_no_signing_key(setup: dict, capsys: Any, monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / "elsewhere"))
    code, err = run(capsys, "--world", setup["world"], "--tls", setup["tls"],
                    "--listen", "127.0.0.1:0")
    assert code == 1 and "world keys init" in err


def test_an_address_in_use(setup: dict, capsys: Any) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        code, err = run(capsys, "--world", setup["world"], "--tls", setup["tls"],
                        "--listen", f"127.0.0.1:{port}")
    finally:
        taken.close()
    assert code == 1 and "cannot listen on" in err and "--listen" in err
