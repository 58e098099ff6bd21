"""Anchored heads: Ed25519 keys (world/keys.py), signed human commits, and
`verify --signed` catching what an attacker who can write the image does, up to
rewriting the whole chain. Real keys in tmp dirs; tampering through raw ZODB."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

import world
from repl.cli import main
from world import keys
from world.history.commits import GENESIS
from world.history.fingerprint import state_of
from world.history.views import findings
from world.lisp.types import to_pylist

from history_helpers import kw, set_, tamper


@pytest.fixture(autouse=True)
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys under tmp_path, never the user's own."""
    folder = tmp_path / "config"
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(folder))
    return folder


def other_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> keys.Signer:
    """A signer with a key of its own (someone else's config directory)."""
    mine = os.environ["WORLD_CONFIG_DIR"]
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / name))
    keys.init()
    sign = keys.signer()
    monkeypatch.setenv("WORLD_CONFIG_DIR", mine)
    return sign


def lines(image: str, **how: Any) -> list[str]:
    """`verify`'s findings as lines, `--signed` unless told otherwise."""
    with world.open(image, read_only=True) as w:
        return [f.line() for f in findings(w.image.root, **{"signed": True, **how})]


def make_signed(image: str) -> str:
    """A world with two signed human commits by the user's trusted key; the key."""
    public = keys.init()
    with world.open(image) as w:
        w.eval(f'(history/trust "{public}" :name "owner")')
        w.eval("(define limit 10)")
        h = w.eval('(commit "limit" :sign #t)')
        assert kw(h, "key") == public
        w.eval("(define (under? x) (< x limit))")
        w.eval('(commit "under?" :sign #t)')
        assert w.eval("(history/verify :signed)") is True
    return public


def rewrite(root: Any, resign: keys.Signer | None, drop_newest: bool = False) -> None:
    """What an attacker who can write the image does: change `limit` (its value, source and
    recorded state), recompute every atomic and human hash after it, re-sign the signed
    human commits with `resign` (None: keep their old signatures), maybe drop the newest."""
    hist = root.history
    d = root.definitions["limit"]
    d.update(d.kind, 1_000_000, "(define limit 1000000)", d.doc)
    target = hist.latest("limit")
    for attr in ("source", "_typed"):
        set_(target, attr, "(define limit 1000000)" if attr == "source" else None)
    set_(target, "state", state_of(d, None))
    renamed, parent = {GENESIS: GENESIS}, GENESIS
    for c in hist.commits.values():
        old = c.hash
        set_(c, "parent", parent)
        set_(c, "hash", c.compute_hash())
        renamed[old] = parent = c.hash
    hist.tip.head = parent
    if drop_newest:
        newest = hist.humans[hist.humans_count]
        for s in newest.seqs:           # its atomic commits go back to pending
            hist.behind.insert(s)
        del hist.humans[hist.humans_count]
        hist.humans_count -= 1
    parent = GENESIS
    for h in hist.humans.values():
        set_(h, "atomic_ids", tuple(hist.commits[s].id for s in h.seqs))
        set_(h, "head", renamed[h.head])
        set_(h, "parent", parent)
        set_(h, "hash", h.compute_hash())
        if h.signature and resign is not None:
            key, sig = resign(h.hash.encode("ascii"))
            set_(h, "key", key)
            set_(h, "signature", sig)
        parent = h.hash


# ---------------------------------------------------------------- the key pair

def test_init_show_refuse_and_force(config: Path) -> None:
    public = keys.init()
    assert keys.HEX_KEY.fullmatch(public) and keys.public_key() == public
    assert stat.S_IMODE((config / "signing.key").stat().st_mode) == 0o600
    assert (config / "signing.pub").read_text().strip() == public
    with pytest.raises(keys.SigningKeyError, match="already exists: `world keys init --force`"):
        keys.init()
    assert keys.public_key() == public
    assert keys.init(force=True) != public
    assert not [p for p in config.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_private_key_others_can_read_is_refused(config: Path, mode: int) -> None:
    keys.init()
    os.chmod(config / "signing.key", mode)
    with pytest.raises(keys.SigningKeyError, match=f"accessible by others \\(mode {mode:04o}\\)"):
        keys.signer()
    with pytest.raises(keys.SigningKeyError, match="chmod 600"):
        keys.public_key()


def test_missing_garbage_and_odd_key_files(config: Path) -> None:
    with pytest.raises(keys.SigningKeyError, match="^no signing key: run `world keys init`$"):
        keys.signer()
    config.mkdir()
    path = config / "signing.key"
    path.write_bytes(os.urandom(5000))
    os.chmod(path, 0o600)
    with pytest.raises(keys.SigningKeyError, match="not an unencrypted Ed25519 private key"):
        keys.signer()
    path.unlink()
    os.mkfifo(path, 0o600)          # must not hang on open
    with pytest.raises(keys.SigningKeyError, match="not a regular file"):
        keys.signer()


def test_config_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert keys.config_dir() == tmp_path / "config"
    monkeypatch.delenv("WORLD_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert keys.config_dir() == tmp_path / "xdg" / "world"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert keys.config_dir() == tmp_path / "home" / ".config" / "world"


def test_verify_signature_never_raises() -> None:
    keys.init()
    public, sig = keys.signer()(b"data")
    assert keys.verify_signature(public, sig, b"data")
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    bad = [(public, sig, b"datA"), (public, flipped, b"data"), (public.upper(), sig, b"data"),
           (public, sig.upper(), b"data"), (public[:-2], sig, b"data"), (public, sig + "00", b"data"),
           ("0" * 64, sig, b"data"), ("f" * 64, "0" * 128, b"data"), (None, None, None),
           (1, 2, 3), (public, sig, "data"), (public, " " + sig[1:], b"data"),
           ("zz" * 32, sig, b"data"), (public, sig, None)]
    for args in bad:
        assert keys.verify_signature(*args) is False, args


# ---------------------------------------------------------------- signing and verifying

def test_a_signed_commit_verifies(image: str) -> None:
    public = make_signed(image)
    assert lines(image) == []
    assert lines(image, keys=[public]) == []
    with world.open(image) as w:
        trusted = to_pylist(w.eval("(history/trusted)"))
        assert [(kw(t, "key"), kw(t, "name")) for t in trusted] == [(public, "owner")]
        signed = [kw(m, "key") for m in to_pylist(w.eval("(history/milestones)"))]
        assert signed == [False, public, public]     # the default rules' commit is unsigned


def test_an_unsigned_newest_commit_fails(image: str) -> None:
    make_signed(image)
    with world.open(image) as w:
        w.eval("(define x 1)")
        w.eval('(commit "unsigned")')
        found = to_pylist(w.eval("(history/verify :signed)"))
        assert w.eval("(history/verify)") is True
    assert len(found) == 1 and kw(found[0], "message") == "the newest human commit is not signed"
    assert kw(found[0], "subject").startswith("human commit 4 (")


def test_changes_after_the_signed_commit_are_not_anchored(image: str) -> None:
    make_signed(image)
    with world.open(image) as w:
        w.eval("(define x 1) (define y 2)")
    assert [x.split(": ", 2)[2] for x in lines(image)] == [
        "2 atomic commits after it are not signed: group them with a signed commit"]


def test_a_key_the_world_does_not_trust_fails(image: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    make_signed(image)
    stranger = other_key(tmp_path, monkeypatch, "stranger")
    with world.open(image) as w:
        w.eval("(define x 1)")
        w.image.root.history.link()
        # the stranger's signature is genuine: only the trust check can refuse it
        from world.history.record import commit
        w._change(lambda: commit(w, "by a stranger", None, stranger), "test")
    found = lines(image)
    assert len(found) == 1 and found[0].startswith("signature: human commit 4 (")
    assert found[0].endswith("which this world does not trust")


def test_a_tampered_signature_fails(image: str) -> None:
    make_signed(image)

    def flip(root: Any) -> None:
        h = root.history.humans[2]
        set_(h, "signature", ("0" if h.signature[0] != "0" else "1") + h.signature[1:])
    tamper(image, flip)
    found = lines(image)
    assert len(found) == 1 and found[0].startswith("signature: human commit 2 (")
    assert found[0].endswith("its signature does not match its hash")


def test_a_rewritten_whole_chain_is_caught(image: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    owner = make_signed(image)
    attacker = other_key(tmp_path, monkeypatch, "attacker")
    tamper(image, lambda root: rewrite(root, attacker))
    with world.open(image) as w:
        assert w.eval("(under? 500000)") is True            # the rewritten world runs...
    assert lines(image, signed=False) == []                 # ...and is consistent unsigned
    found = lines(image)
    assert len(found) == 1 and found[0].startswith("signature: human commit 3 (")
    assert found[0].endswith("which this world does not trust")
    # An attacker who also edits the world's list of trusted keys passes that list;
    # a verifier who names the key it trusts still catches it.
    attacker_key = attacker(b"")[0]
    tamper(image, lambda root: root.history.trust(attacker_key, "owner"))
    assert lines(image) == []
    found = lines(image, keys=[owner])
    assert len(found) == 1 and found[0].startswith("signature: human commit 3 (")
    assert found[0].endswith("which is not a key you named")


def test_a_rewritten_chain_without_its_newest_commit_is_caught(image: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    make_signed(image)
    # keeping the older commit's own signature: it no longer matches the rewritten hash
    tamper(image, lambda root: rewrite(root, None, drop_newest=True))
    assert lines(image, signed=False) == [
        f"signature: {lines(image)[0].split(': ')[1]}: its signature does not match its hash"]
    found = lines(image)
    assert found[0].startswith("signature: human commit 2 (")
    assert found[0].endswith("its signature does not match its hash")
    # re-signed by the attacker instead: not a trusted key
    image2 = image + ".2.fs"
    make_signed_again(image2)
    attacker = other_key(tmp_path, monkeypatch, "attacker")
    tamper(image2, lambda root: rewrite(root, attacker, drop_newest=True))
    found = lines(image2)
    assert found[0].startswith("signature: human commit 2 (")
    assert found[0].endswith("which this world does not trust")


def make_signed_again(image: str) -> None:
    """`make_signed` with the key the config directory already holds."""
    public = keys.public_key()
    with world.open(image) as w:
        w.eval(f'(history/trust "{public}")')
        w.eval("(define limit 10)")
        w.eval('(commit "limit" :sign #t)')
        w.eval("(define (under? x) (< x limit))")
        w.eval('(commit "under?" :sign #t)')


# ---------------------------------------------------------------- the Lisp side

def test_signing_needs_host_and_a_key(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define x 1)")
        with pytest.raises(world.EvalError, match="error: commit: no signing key: run `world keys init`$"):
            w.eval('(commit "x" :sign #t)')
        with pytest.raises(world.EvalError, match="the only option is :sign #t"):
            w.eval('(commit "x" :sign 1)')
    keys.init()
    with world.open(image, caps=("core", "reflect", "image")) as w:
        with pytest.raises(world.SandboxError, match="only a session granted the host capability"):
            w.eval('(commit "x" :sign #t)')
        assert w.eval('(commit "unsigned is fine" \'(x))') is not None
    with world.open(image) as w:
        w.eval("(define y 2) (define z 3)")
        h = w.eval("(commit \"only y\" '(y) :sign #t)")
        assert kw(h, "key") == keys.public_key() and len(to_pylist(kw(h, "atomic"))) == 1


def test_trust_checks_the_key(image: str) -> None:
    with world.open(image) as w:
        assert w.eval("(history/trusted)") == world.read("()")
        for bad in ('"abc"', "'sym", '"' + "g" * 64 + '"', '"a" :name 3'):
            with pytest.raises(world.EvalError, match="history/trust"):
                w.eval(f"(history/trust {bad})")
        w.eval(f'(history/trust "  {"AB" * 32}  ")')
        assert [kw(t, "key") for t in to_pylist(w.eval("(history/trusted)"))] == ["ab" * 32]


# ---------------------------------------------------------------- the command line

def test_cli_keys_commit_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    image = str(tmp_path / "c.fs")
    with world.open(image) as w:
        w.eval("(define x 1)")
    assert main(["keys", "show"]) == 1
    assert capsys.readouterr().err == "error: no signing key: run `world keys init`\n"
    assert main(["commit", "x", "--sign", "--world", image]) == 1
    assert "no signing key" in capsys.readouterr().err
    assert main(["keys", "init"]) == 0
    public = capsys.readouterr().out.splitlines()[0]
    assert main(["keys", "init"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["keys", "show"]) == 0 and capsys.readouterr().out == public + "\n"
    assert main(["keys", "show", "--force"]) == 2
    capsys.readouterr()
    assert main(["commit", "x", "--sign", "--world", image]) == 0
    assert capsys.readouterr().out.endswith(f"x (1 atomic commits), signed by {public}\n")
    assert main(["history", "verify", "--signed", "--world", image]) == 1
    assert "which this world does not trust" in capsys.readouterr().out
    assert main(["history", "verify", "--key", public.upper(), "--world", image]) == 0
    assert capsys.readouterr().out.rstrip().endswith("verified, signed")
    assert main(["history", "verify", "--key", "nonsense", "--world", image]) == 1
    assert capsys.readouterr().err == "error: a public key is 64 hex digits (what `world keys show` prints)\n"
    assert main(["eval", f'(history/trust "{public}")', "--world", image]) == 0
    assert main(["history", "verify", "--signed", "--json", "--world", image]) == 0
    assert main(["keys", "init", "--force"]) == 0
    capsys.readouterr()
    assert main(["history", "verify", "--signed", "--world", image]) == 0   # the old key still anchors


def test_a_production_image_is_not_signed(image: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    make_signed(image)
    prod = str(tmp_path / "prod.fs")
    with world.open(image) as w:
        w.eval(f'(world/build-prod "{prod}")')
    assert main(["history", "milestones", "--world", image]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"signed by {keys.public_key()}")
    assert main(["history", "verify", "--world", prod]) == 0
    capsys.readouterr()
    assert main(["history", "verify", "--signed", "--world", prod]) == 1
    assert "production image keeps no history to be signed" in capsys.readouterr().err
    assert lines(prod) == ["signature: history: a production image keeps no history to be "
                           "signed: verify its source with :signed"]
