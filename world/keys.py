"""The user's Ed25519 signing key, and checking signatures made with any key.

The key pair lives in the user's config directory (`$WORLD_CONFIG_DIR`, else
`$XDG_CONFIG_HOME/world`, else `~/.config/world`): `signing.key`, the private
key as PKCS#8 PEM, mode 0600, and `signing.pub`, the public key as 64 hex
digits. As ssh does, a private key file that others may read is refused.
A public key and a signature travel as lowercase hex; what is signed is bytes
(a human commit's hash as ASCII; later, a federated message's canonical text).

A leaf module: only the standard library and `cryptography`, imported lazily
because loading it costs start-up time that `world eval` should not pay.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Callable

PRIVATE = "signing.key"
PUBLIC = "signing.pub"
MAX_KEY_FILE = 64 * 1024        # a PEM Ed25519 key is 119 bytes: never read a huge file whole
HEX_KEY = re.compile(r"[0-9a-f]{64}")
HEX_SIG = re.compile(r"[0-9a-f]{128}")

Signer = Callable[[bytes], tuple[str, str]]     # data -> (public key hex, signature hex)


class SigningKeyError(Exception):
    """The signing key is missing, unsafe or unreadable, or a public key is malformed.
    Callers turn it into their own one-line error (CommandError, EvalError)."""


def config_dir() -> Path:
    """Where the user's keys live."""
    given = os.environ.get("WORLD_CONFIG_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return Path(xdg) / "world"
    return Path.home() / ".config" / "world"


def key_path() -> Path:
    """The private key file."""
    return config_dir() / PRIVATE


def init(force: bool = False) -> str:
    """Make a new key pair; return its public key. Refuses to replace one unless `force`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    folder = config_dir()
    path = folder / PRIVATE
    if not force and (path.exists() or path.is_symlink()):
        raise SigningKeyError(f"{path} already exists: `world keys init --force` replaces it "
                              f"(commits signed with the old key then verify only against it)")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise SigningKeyError(f"cannot create {folder}: {e.strerror or e}") from None
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = _hex_public(key)
    _write(path, pem, 0o600)
    _write(folder / PUBLIC, (public + "\n").encode("ascii"), 0o644)
    return public


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write `path` whole or not at all: a temporary file with `mode` from the start
    (never briefly readable by others), synced, then renamed over the old one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise SigningKeyError(f"cannot write {path}: {e.strerror or e}") from None


def _load():  # -> Ed25519PrivateKey
    """The private key, if its file exists, is the user's own, is private, and holds one."""
    path = key_path()
    try:
        # O_NONBLOCK: a FIFO planted as the key must not hang us; fstat the open file,
        # not the name, so what is checked is what is read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SigningKeyError("no signing key: run `world keys init`") from None
    except OSError as e:
        raise SigningKeyError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SigningKeyError(f"{path} is not a regular file")
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise SigningKeyError(f"{path} belongs to another user: refusing to use it")
        if st.st_mode & 0o077:
            raise SigningKeyError(f"{path} is accessible by others (mode "
                                  f"{stat.S_IMODE(st.st_mode):04o}): refusing to use it; "
                                  f"run `chmod 600 {path}`")
        data = os.read(fd, MAX_KEY_FILE + 1)
    except OSError as e:
        raise SigningKeyError(f"cannot read {path}: {e.strerror or e}") from None
    finally:
        os.close(fd)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    try:
        if len(data) > MAX_KEY_FILE:
            raise ValueError("too large")
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an unencrypted Ed25519 private key: "
                              f"make a new one with `world keys init --force`")
    return key


def _hex_public(key) -> str:  # key: Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()


def public_key() -> str:
    """The user's public key (64 hex digits), from the private key itself."""
    return _hex_public(_load())


def signer() -> Signer:
    """A function signing bytes with the user's key: data -> (public key, signature), hex."""
    key = _load()
    public = _hex_public(key)

    def sign(data: bytes) -> tuple[str, str]:
        return public, key.sign(bytes(data)).hex()
    return sign


def normal_public_key(text: object) -> str:
    """`text` as a public key in its one canonical form (64 lowercase hex digits)."""
    key = text.strip().lower() if type(text) is str else ""
    if not HEX_KEY.fullmatch(key):
        raise SigningKeyError("a public key is 64 hex digits (what `world keys show` prints)")
    return key


def verify_signature(key_hex: object, sig_hex: object, data: object) -> bool:
    """Whether `sig_hex` is `key_hex`'s Ed25519 signature of `data`; False (never an
    exception) for anything malformed. Only the canonical lowercase hex forms are
    accepted, so one key or signature has exactly one spelling."""
    if (type(key_hex) is not str or type(sig_hex) is not str
            or not isinstance(data, (bytes, bytearray, memoryview))
            or not HEX_KEY.fullmatch(key_hex) or not HEX_SIG.fullmatch(sig_hex)):
        return False
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
        public.verify(bytes.fromhex(sig_hex), bytes(data))
        return True
    except InvalidSignature:
        return False
    except Exception:           # a point not on the curve, or anything else malformed
        return False
