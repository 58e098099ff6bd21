"""A world in PostgreSQL through RelStorage: a real server started by the test
(initdb + pg_ctl on a free loopback port), skipped with the reason when this
machine cannot start one."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

import world
from world.objects import ImageError
from world.objects.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def _why_not() -> str | None:
    """Why no PostgreSQL server can be started here, or None if one can."""
    for module in ("relstorage", "psycopg2"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'relstorage[postgresql]')"
    for tool in ("initdb", "pg_ctl", "createdb"):
        if shutil.which(tool) is None:
            return f"PostgreSQL's {tool} is not on PATH"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _uid("postgres") is None):
        return "initdb refuses to run as root and there is no 'postgres' user to run it as"
    return None


def _uid(user: str) -> int | None:
    import pwd
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    """The DSN of a fresh PostgreSQL server on a free loopback port, stopped afterwards."""
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    folder = tempfile.mkdtemp(prefix="world-pg-")
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        os.chown(folder, _uid("postgres"), -1)
    data, port = os.path.join(folder, "data"), free_port()
    run = lambda *argv: subprocess.run(_as_owner(list(argv)), capture_output=True, text=True,  # noqa: E731
                                       timeout=120)
    try:
        made = run("initdb", "-D", data, "-A", "trust", "-U", "world", "-E", "UTF8", "--no-sync")
        if made.returncode != 0:
            pytest.skip(f"initdb failed: {made.stderr.strip().splitlines()[-1:]}")
        started = run("pg_ctl", "-D", data, "-l", os.path.join(folder, "log"), "-w", "start",
                      "-o", f"-k {folder} -p {port} -h 127.0.0.1 -F")
        if started.returncode != 0:
            pytest.skip(f"PostgreSQL did not start: {started.stderr.strip()[-200:]}")
        try:
            yield f"host=127.0.0.1 port={port} dbname=postgres user=world"
        finally:
            run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_py(code: str, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_world_lives_in_postgresql(dsn: str) -> None:
    with world.open(relstorage=dsn) as w:
        w.eval('(define (make-counter) (let ((n 0)) (lambda () (set! n (+ n 1)) n)))'
               '(define tick (make-counter)) (tick) (define (tripled x) "Three times." (* 3 x))')
        assert w.info()["path"] == f"postgresql:{dsn}"
    out = _run_py("import sys, world\n"
                  "w = world.open(relstorage=sys.argv[1])\n"
                  "print(w.eval('(tick)'), w.eval('(tripled 5)'), w.image.root.definitions['tripled'].doc)\n"
                  "w.eval('(define from-child 7)')\n", dsn)
    assert out.split() == ["2", "15", "Three", "times."]
    with world.open(relstorage=dsn) as w:
        assert (w.eval("(tick)"), w.eval("from-child")) == (3, 7)


def test_two_sessions_share_it_like_zeo(dsn: str) -> None:
    a, b = world.open(relstorage=dsn), world.open(relstorage=dsn)
    try:
        a.eval("(define shared-1 (box 1))")
        assert b.eval("(unbox shared-1)") == 1
        b.eval("(set-box! shared-1 2) (define from-b 'b)")
        assert world.write(a.eval("(list (unbox shared-1) from-b)")) == "(2 b)"
    finally:
        a.close()
        b.close()


def test_snapshots_and_pack_on_postgresql(dsn: str) -> None:
    with world.open(relstorage=dsn) as w:
        w.eval('(define kept 1) (world/save "pg") (define kept 2) (world/pack)')
        w.eval('(world/restore "pg")')
        assert w.eval("kept") == 1


def test_the_cli_takes_a_dsn(dsn: str, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cli: Callable[..., subprocess.CompletedProcess] = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "repl.cli", *a], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=120)
    assert cli("eval", "--relstorage", dsn, "(define (via-cli) 'yes)").returncode == 0
    proc = cli("eval", "--relstorage", dsn, "(via-cli)")
    assert proc.stdout == "yes\n", proc.stderr
    assert not (tmp_path / "images").exists()


def test_no_server_is_one_clear_line(tmp_path: Path) -> None:
    if importlib.util.find_spec("relstorage") is None:
        pytest.skip("relstorage is not installed (pip install 'relstorage[postgresql]')")
    bad = f"host=127.0.0.1 port={free_port()} dbname=none user=world password=hunter2"
    with pytest.raises(ImageError, match="cannot open PostgreSQL database") as e:
        world.open(relstorage=bad)
    msg = str(e.value)
    assert "hunter2" not in msg and "password=***" in msg and "\n" not in msg
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "repl.cli", "eval", "--relstorage", bad, "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_zodbconvert_moves_an_image_into_postgresql(dsn: str, tmp_path: Path) -> None:
    """The README's way to outgrow one machine: copy the image file into PostgreSQL."""
    image = str(tmp_path / "world.fs")
    with world.open(image) as w:
        w.eval('(define (moved) "Came from a file." (quote moved)) (define moved-box (box 5))')
    pg = dsn.replace("dbname=postgres", "dbname=moved")
    subprocess.run(_as_owner(["createdb", "-h", "127.0.0.1", "-p", dsn.split("port=")[1].split()[0],
                              "-U", "world", "moved"]), check=True, capture_output=True, timeout=60)
    (tmp_path / "convert.conf").write_text(
        f"%import relstorage\n<filestorage source>\n  path {image}\n  read-only true\n"
        f"</filestorage>\n<relstorage destination>\n  <postgresql>\n    dsn {pg}\n"
        f"  </postgresql>\n</relstorage>\n")
    convert = shutil.which("zodbconvert") or os.path.join(os.path.dirname(sys.executable), "zodbconvert")
    proc = subprocess.run([convert, str(tmp_path / "convert.conf")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with world.open(relstorage=pg) as w:
        assert world.write(w.eval("(list (moved) (unbox moved-box))")) == "(moved 5)"
        assert w.image.root.definitions["moved"].doc == "Came from a file."
