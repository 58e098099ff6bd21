"""`world check IMAGE`: one table of ZODB's own checks, every record and the history
verify; exit 0 only if all pass; the image and every file beside it stay byte-for-byte."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import world

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ["file", "fstest", "fsrefs", "open", "records", "verify"]


def check(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WORLD_IMAGE", None)
    return subprocess.run([sys.executable, "-m", "repl.cli", "check", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def make(tmp_path: Path) -> str:
    image = str(tmp_path / "w" / "world.fs")
    with world.open(image) as w:
        w.eval("(define x 1) (define y (list 1 2 3)) (define (f n) (* n 2))")
    return image


def files(image: str) -> dict[str, tuple[bytes, int]]:
    folder = Path(image).parent
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def rows(proc: subprocess.CompletedProcess) -> dict[str, str]:
    out = {}
    for line in proc.stdout.splitlines()[:-1]:
        name, status = line.split()[:2]
        out[name] = status
    return out


def test_a_sound_image_passes_every_check_untouched(tmp_path: Path) -> None:
    image = make(tmp_path)
    before = files(image)
    proc = check(image)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert rows(proc) == {name: "ok" for name in CHECKS}
    assert proc.stdout.splitlines()[-1].endswith("all checks pass")
    proc = check("--json", image)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["ok"] is True and data["image"] == image
    assert [c["check"] for c in data["checks"]] == CHECKS
    assert files(image) == before


def test_a_truncated_image_fails_and_stays_as_it_was(tmp_path: Path) -> None:
    image = make(tmp_path)
    data = Path(image).read_bytes()
    os.unlink(image + ".index")
    Path(image).write_bytes(data[:-50])
    before = files(image)
    proc = check(image)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = rows(proc)
    assert found["file"] == "FAIL" and found["fstest"] == "FAIL", proc.stdout
    assert "DAMAGED" in proc.stdout.splitlines()[-1]
    assert files(image) == before
    assert not any(".tr" in n for n in os.listdir(Path(image).parent))


def test_a_damaged_record_is_named(tmp_path: Path) -> None:
    image = make(tmp_path)
    data = Path(image).read_bytes()
    at = data.rindex(b"world.objects.definitions")
    Path(image).write_bytes(data[:at] + b"world.objects.definitmons" + data[at + 25:])
    before = files(image)
    proc = check("--json", image)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    by = {c["check"]: c for c in result["checks"]}
    assert result["ok"] is False and by["records"]["ok"] is False
    assert "object 0x" in by["records"]["detail"] and "definitmons" in by["records"]["detail"]
    assert by["fstest"]["ok"] is True
    assert files(image) == before


def test_an_empty_image_with_an_index(tmp_path: Path) -> None:
    image = make(tmp_path)
    Path(image).write_bytes(b"")
    proc = check(image)
    assert proc.returncode == 1 and rows(proc)["file"] == "FAIL", proc.stdout


def test_no_image_is_one_error_line(tmp_path: Path) -> None:
    proc = check(str(tmp_path / "missing.fs"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1
    assert not os.listdir(tmp_path)
