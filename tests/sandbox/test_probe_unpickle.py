"""Probes: hostile ZODB records (in an image file, or stored by a ZEO client)
that name host code are refused with one error line naming the object id,
and nothing of them runs (the marker file each would create stays absent)."""
from __future__ import annotations

import builtins
import os
import pickle
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from persistent.mapping import PersistentMapping
from ZODB.Connection import TransactionMetaData
from ZODB.FileStorage import FileStorage
from ZODB.utils import z64

import world
from world.lisp.types import Template, Symbol
from world.objects.allowlist import allowed, oid_text
from world.objects.definitions import Definition
from world.objects.errors import ImageError
from world.objects.image import Image
from world.objects.server import Server

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- hostile pickles

class Call:
    """Pickles as a call of `fn(*args)` (REDUCE on a GLOBAL)."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> Any:
        return (self.fn, self.args)


def touch(marker: Path) -> Call:
    """A value whose unpickling runs a shell command creating `marker`."""
    return Call(os.system, f"touch {marker}")


def evaluates(marker: Path) -> Call:
    """A value whose unpickling runs `builtins.eval` creating `marker`."""
    return Call(builtins.eval, f"open({str(marker)!r}, 'w').close()")


def popen(marker: Path) -> Call:
    """A value whose unpickling starts a subprocess creating `marker`."""
    return Call(subprocess.Popen, ["touch", str(marker)])


def record(meta: Any, state: Any) -> bytes:
    """A ZODB record: the class pickle, then the state pickle."""
    return pickle.dumps(meta, 3) + pickle.dumps(state, 3)


def store(storage: Any, oid: bytes, data: bytes, serial: bytes | None = None) -> None:
    """Write one raw record in its own transaction, as any storage client can."""
    if serial is None:
        try:
            serial = storage.load(oid)[1]
        except Exception:
            serial = z64
    t = TransactionMetaData()
    storage.tpc_begin(t)
    storage.store(oid, serial, data, "", t)
    storage.tpc_vote(t)
    storage.tpc_finish(t)


def definition_oid(path: str, name: str = "f") -> bytes:
    """Make a world with `(define f 1)` at `path`; return the oid of f's Definition."""
    with world.open(path) as w:
        w.eval(f"(define {name} 1)")
        return w.image.root.definitions[name]._p_oid


def poison(path: str, oid: bytes, data: bytes) -> None:
    """Replace record `oid` of the image at `path` with `data`."""
    fs = FileStorage(path)
    try:
        store(fs, oid, data)
    finally:
        fs.close()


def refused(e: pytest.ExceptionInfo, oid: bytes) -> None:
    """The error is one line naming the object id."""
    text = str(e.value)
    assert "\n" not in text and oid_text(oid) in text and "may not load" in text, text


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(tmp_path / "world.fs")


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    m = tmp_path / "PWNED"
    yield m
    assert not m.exists(), "hostile code ran"


# ---------------------------------------------------------------- image files

def test_root_record_class_is_os_system(image: str, marker: Path) -> None:
    """The root record's class is `os.system`: opening the image is refused."""
    world.open(image).close()
    poison(image, z64, record((os.system, (f"touch {marker}",)), {}))
    with pytest.raises(ImageError) as e:
        world.open(image)
    refused(e, z64)


def test_root_state_calls_os_system(image: str, marker: Path) -> None:
    world.open(image).close()
    poison(image, z64, record((PersistentMapping, None), {"data": {"x": touch(marker)}}))
    with pytest.raises(ImageError) as e:
        world.open(image)
    refused(e, z64)


def test_definition_state_calls_eval(image: str, marker: Path) -> None:
    """The image opens (definitions load lazily); evaluating the name is refused."""
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None), {"name": "f", "value": evaluates(marker)}))
    with world.open(image) as w:
        with pytest.raises(ImageError) as e:
            w.eval("f")
    refused(e, oid)


def test_definition_state_starts_a_subprocess(image: str, marker: Path) -> None:
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None), {"name": "f", "value": popen(marker)}))
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("(+ f 1)")
    refused(e, oid)


def _body(value: Any) -> bytes:
    """The opcodes of a pickle of `value`, without its protocol header and STOP."""
    return pickle.dumps(value, 3)[2:-1]


def test_newobj_of_a_host_class(image: str, marker: Path) -> None:
    """NEWOBJ (`cls.__new__`) then BUILD on a class outside the allowlist."""
    obj = (b"csubprocess\nPopen\n)\x81" + _body({"args": ["touch", str(marker)]}) + b"b")
    state = b"\x80\x03}(" + _body("name") + _body("f") + _body("value") + obj + b"u."
    oid = definition_oid(image)
    poison(image, oid, pickle.dumps((Definition, None), 3) + state)
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    refused(e, oid)
    assert "subprocess.Popen" in str(e.value)


def test_getattr_chain_is_refused(image: str, marker: Path) -> None:
    """`builtins.getattr` would reach anything from an allowed object: never allowed."""
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None),
                              {"name": "f", "value": Call(getattr, Symbol, "__init__")}))
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    refused(e, oid)
    assert "builtins.getattr" in str(e.value)


def test_a_world_function_that_writes_files(image: str, tmp_path: Path, marker: Path) -> None:
    """A module-level function of the world itself (it would create an image) is refused."""
    from world.objects.storage import file_storage
    made = tmp_path / "made.fs"
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None), {"name": "f", "value": Call(file_storage, str(made))}))
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    refused(e, oid)
    assert not made.exists()


def test_a_world_class_that_is_not_persistent(image: str, marker: Path) -> None:
    """`world.objects.server.Server` (starts a process) is a world class, but not data."""
    oid = definition_oid(image)
    poison(image, oid, record((Server, None), {}))
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    refused(e, oid)


def test_a_persistent_reference_naming_a_host_class(image: str, marker: Path) -> None:
    """The class meta of a reference inside a state goes through the allowlist too."""
    oid = definition_oid(image)
    data = (b"\x80\x03cworld.objects.definitions\nDefinition\nq\x00N\x86q\x01."
            + b"\x80\x03}q\x00X\x05\x00\x00\x00valueq\x01C\x08\x00\x00\x00\x00\x00\x00\x00\x63"
            + b"cposix\nsystem\n\x86q\x02Q\x73.")
    poison(image, oid, data)
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    refused(e, oid)


def test_a_template_that_injects_python(image: str, marker: Path) -> None:
    """A stored closure whose captured name would become Python source in the compiler
    (a default argument that escapes through `object.__subclasses__`)."""
    from world.lisp.env import environment_by_id
    from world.lisp.reader import read
    from world.lisp.types import _rebuild_closure
    escape = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "
              f"'_wrap_close'][0].__init__.__globals__['system']('touch {marker}')")
    free = (f"l_b_0,l_a={escape} or 1_1",)
    tmpl = Call(Template, read("(lambda () 1)"), "f", free, None, False,
                Call(environment_by_id, "somewhere"))
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None),
                              {"name": "f", "value": Call(_rebuild_closure, tmpl, (1,))}))
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("(f)")
    refused(e, oid)
    assert "malformed procedure template" in str(e.value)


def test_an_unknown_primitive(image: str) -> None:
    oid = definition_oid(image)
    from world.lisp.types import primitive_named
    poison(image, oid, record((Definition, None),
                              {"name": "f", "value": Call(primitive_named, "no-such")}))
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    refused(e, oid)


def test_allowed_names_with_data_that_does_not_fit(image: str) -> None:
    """Only allowlisted names, but a state its class cannot take: one line naming the oid."""
    from world.lisp.types import _rebuild_list
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None),
                              {"name": "f", "value": Call(_rebuild_list, 42)}))
    with world.open(image) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    text = str(e.value)
    assert "\n" not in text and oid_text(oid) in text and "cannot be loaded" in text, text


def test_world_eval_on_a_hostile_image(image: str, tmp_path: Path, marker: Path) -> None:
    """The CLI: one error line naming the oid, exit status 1, no traceback."""
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None), {"name": "f", "value": touch(marker)}))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "repl.cli", "eval", "--world", image, "f"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and oid_text(oid) in lines[0], lines


def test_pack_does_not_load_hostile_state(image: str, marker: Path) -> None:
    """Packing walks references without resolving globals."""
    oid = definition_oid(image)
    poison(image, oid, record((Definition, None), {"name": "f", "value": touch(marker)}))
    img = Image.open(image)
    try:
        img.pack()
    finally:
        img.close()


def test_the_allowlist_is_names_not_callables() -> None:
    """What the world's data needs is allowed; host callables and non-data world names are not."""
    for ok in [("world.objects.root", "WorldRoot"), ("BTrees.OOBTree", "OOBucket"),
               ("BTrees.Length", "Length"), ("world.lisp.types", "Symbol"),
               ("persistent.mapping", "PersistentMapping"), ("fractions", "Fraction")]:
        assert allowed(*ok), ok
    for bad in [("builtins", "eval"), ("builtins", "getattr"), ("posix", "system"),
                ("copyreg", "_reconstructor"), ("world.lisp.env", "Environment"),
                ("world.objects.server", "serve"), ("world.objects.storage", "WorldDB"),
                ("world.lisp.compiler", "_build"), ("BTrees.OOBTree", "difference"),
                ("world.objects.root", "__builtins__"), ("world", "open")]:
        assert not allowed(*bad), bad


# ---------------------------------------------------------------- ZEO

@pytest.fixture
def zeo_image(image: str) -> Iterator[tuple[str, str, bytes]]:
    """A served world with `f` defined: (image path, server address, f's oid)."""
    oid = definition_oid(image)
    server = Server(image)
    try:
        yield image, server.address, oid
    finally:
        server.stop()


def _client(address: str) -> Any:
    import ZEO
    host, port = address.rsplit(":", 1)
    return ZEO.client((host, int(port)), wait_timeout=30)


def test_a_zeo_client_stores_a_hostile_record(zeo_image: tuple[str, str, bytes], marker: Path) -> None:
    _, address, oid = zeo_image
    client = _client(address)
    try:
        store(client, oid, record((Definition, None), {"name": "f", "value": touch(marker)}))
    finally:
        client.close()
    with world.open(zeo=address) as w, pytest.raises(ImageError) as e:
        w.eval("f")
    refused(e, oid)


def test_conflict_resolution_on_the_server_refuses(zeo_image: tuple[str, str, bytes],
                                                    marker: Path) -> None:
    """A stale write to a BTree makes the server resolve a conflict: it unpickles the
    new state, and refuses the global instead of running it."""
    from ZODB.POSException import ConflictError
    _, address, _ = zeo_image
    with world.open(zeo=address) as w:
        tree = w.image.root.definitions
        oid, old = tree._p_oid, tree._p_serial
        w.eval("(define g 2)")          # a newer revision of the tree
    meta = (type(tree), None)
    client = _client(address)
    try:
        with pytest.raises(ConflictError):
            store(client, oid, record(meta, ((("x", touch(marker)),),)), serial=old)
    finally:
        client.close()


def _frame(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_frame(sock: socket.socket) -> bytes:
    size = struct.unpack(">I", sock.recv(4, socket.MSG_WAITALL))[0]
    return sock.recv(size, socket.MSG_WAITALL)


def test_a_zeo_message_that_calls_eval(zeo_image: tuple[str, str, bytes], marker: Path) -> None:
    """ZEO's own message decoder allows every builtin; the world's server allows none."""
    _, address, _ = zeo_image
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        greeting = _read_frame(sock)
        assert greeting[:1] == b"Z"
        sock.sendall(_frame(greeting))
        sock.sendall(_frame(pickle.dumps((1, False, "lastTransaction", (evaluates(marker),)), 3)))
        sock.settimeout(3)
        try:
            sock.recv(1)
        except (socket.timeout, OSError):
            pass
    with world.open(zeo=address) as w:          # the server still serves
        assert w.eval("f") == 1


def test_a_transaction_extension_that_calls_os_system(zeo_image: tuple[str, str, bytes],
                                                      marker: Path) -> None:
    """A client writes a pickle as a transaction's raw extension bytes; iterating the
    transactions makes a ZEO server unpickle it. The world's server refuses its globals."""
    _, address, oid = zeo_image
    client = _client(address)
    try:
        t = TransactionMetaData()
        t.extension = pickle.dumps(touch(marker), 3)     # bytes: stored raw by the server
        serial = client.load(oid)[1]
        client.tpc_begin(t)
        client.store(oid, serial, record((Definition, None), {"name": "f", "value": 2}), "", t)
        client.tpc_vote(t)
        client.tpc_finish(t)
        iid = client._call("iterator_start", None, None)
        with pytest.raises(Exception):
            while client._call("iterator_next", iid) is not None:
                pass
    finally:
        client.close()
