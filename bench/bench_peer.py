"""Peer endpoint throughput: concurrent clients sending signed programs over loopback.

    python bench/bench_peer.py [--clients 10] [--messages 100] [--program "(+ 1 2)"] [--tls] [--quick]

A real `world peer serve` process runs on a temporary world with its own key;
each client has its OWN Ed25519 key, trusted by that world with a generous
`:per-minute` (so no rate limit interferes), and its own connection, on which
it sends its messages one after another (each signed with a new nonce, the
reply verified and matched to it). Reported: latency per message as a client
sees it (sign, send, run, reply, verify) at p50 and p99, messages per second
over the whole run, and the server process's peak resident memory (VmHWM).
The reference, measured in the same run: the same number of signed messages
answered in-process by `Endpoint.answer` on the same world, with no socket.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import world  # noqa: E402
from world.lisp.reader import read  # noqa: E402
from world.peer import client, message  # noqa: E402

READY_SECONDS = 120.0


def new_signer():
    """A fresh Ed25519 key as a signer (data -> (public key, signature))."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw).hex()
    return lambda data: (public, key.sign(bytes(data)).hex())


def server_key(config: str) -> None:
    """Make the server's key pair under `config` (what `world keys init` does)."""
    from world import keys
    os.environ["WORLD_CONFIG_DIR"] = config
    try:
        keys.init()
    finally:
        del os.environ["WORLD_CONFIG_DIR"]


def start_server(image: str, config: str, tls: str | None) -> tuple[subprocess.Popen, str]:
    """`world peer serve` on a free loopback port; the process and its address."""
    env = dict(os.environ, PYTHONPATH=ROOT, WORLD_CONFIG_DIR=config)
    proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "peer", "serve", "--address",
                             "127.0.0.1:0", "--world", image, *(["--tls", tls] if tls else [])],
                            env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(READY_SECONDS)
    if not box or not box[0].startswith("serving "):
        proc.kill()
        raise SystemExit(f"the server did not start: {box} {proc.stderr.read()}")
    return proc, box[0].split(" on ")[1].split()[0]


def peak_memory(pid: int) -> int:
    """VmHWM of process `pid`, in bytes (0 where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def one_client(address: str, signer, form, n: int, latencies: list[float],
               errors: list[str], tls: str | None) -> None:
    """Send `n` signed messages on one connection, one after another."""
    from websockets.sync.client import connect
    from world.objects.tls import client_context
    try:
        with connect(address, proxy=None, compression=None, max_size=None, open_timeout=60,
                     ssl=client_context(tls) if tls else None) as ws:
            for _ in range(n):
                t = time.perf_counter()
                frame, nonce = client.request(form, signer)
                ws.send(frame)
                client.value_of(address, ws.recv(timeout=120), nonce)
                latencies.append(time.perf_counter() - t)
    except Exception as e:          # reported, and counted as unanswered
        errors.append(" ".join(str(e).split())[:200])


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--messages", type=int, default=100, help="per client")
    ap.add_argument("--program", default="(+ 1 2)")
    ap.add_argument("--tls", action="store_true", help="wss:// with mutual TLS (world tls-init)")
    ap.add_argument("--quick", action="store_true", help="2 clients x 10 messages")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.messages = 2, 10
    form = read(args.program)
    total = args.clients * args.messages
    with tempfile.TemporaryDirectory() as tmp:
        image, config = os.path.join(tmp, "server.fs"), os.path.join(tmp, "cfg")
        server_key(config)
        signers = [new_signer() for _ in range(args.clients)]
        with world.open(image) as w:
            for i, s in enumerate(signers):
                w.eval(f'(peer/trust "{s(b"")[0]}" :name "client{i}" :caps [:core] '
                       f':steps 1000000 :per-minute 1000000 :concurrent 4)')
        tls = None
        if args.tls:
            from world.objects.tls import init
            tls = os.path.join(tmp, "certs")
            init(tls)
        proc, address = start_server(image, config, tls)
        try:
            latencies: list[float] = []
            errors: list[str] = []
            threads = [threading.Thread(target=one_client,
                                        args=(address, s, form, args.messages, latencies, errors,
                                              tls))
                       for s in signers]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            peak = peak_memory(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        answered = len(latencies)
        print(f"peer endpoint: {args.clients} clients x {args.messages} signed messages of "
              f"{args.program} over {address.split(':')[0]}:// loopback, one key and one "
              f"connection per client")
        print(f"  answered            {answered}/{total}" + (f"  errors: {errors[:3]}" if errors else ""))
        if answered:
            print(f"  latency p50         {percentile(latencies, 50) * 1000:.2f} ms")
            print(f"  latency p99         {percentile(latencies, 99) * 1000:.2f} ms")
        rate = answered / wall if wall else 0.0
        print(f"  messages per second {rate:.0f}  ({wall:.2f} s in all)")
        print(f"  server peak memory  {peak / 2**20:.1f} MB (VmHWM)")

        # The reference: the same messages answered in-process, with no socket.
        from world import keys
        from world.peer.endpoint import Endpoint
        os.environ["WORLD_CONFIG_DIR"] = config
        try:
            own = keys.signer()
        finally:
            del os.environ["WORLD_CONFIG_DIR"]
        with world.open(image) as w:
            endpoint = Endpoint(w, own)
            frames = []
            for i in range(total):
                s = signers[i % len(signers)]
                msg = message.sign(form, s)
                frames.append((message.encode(msg), msg.get(world.read(":nonce"))))
            inproc: list[float] = []
            t0 = time.perf_counter()
            for frame, nonce in frames:
                t = time.perf_counter()
                client.value_of("in-process", endpoint.answer(frame), nonce)
                inproc.append(time.perf_counter() - t)
            ref_wall = time.perf_counter() - t0
            endpoint.close()
        ref_rate = total / ref_wall if ref_wall else 0.0
        print(f"reference: the same {total} messages answered in-process by Endpoint.answer "
              f"(one at a time, no socket, signed beforehand)")
        print(f"  answer p50          {percentile(inproc, 50) * 1000:.2f} ms")
        print(f"  messages per second {ref_rate:.0f}")
        if ref_rate:
            print(f"  ratio               {rate / ref_rate:.2f}x the in-process rate "
                  f"over the network with {args.clients} clients")
    return 0 if answered == total else 1


if __name__ == "__main__":
    sys.exit(main())
