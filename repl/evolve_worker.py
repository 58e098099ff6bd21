"""A worker process of a parallel `world evolve`: runs lineages of one
generation in the world served over ZEO, until none is left to claim.

Started by the coordinator (world/evolve/run.py); errors end as one line on
stderr and exit status 1.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import world
from world.lisp.errors import LispError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: --zeo HOST:PORT [--tls DIR] --run ID --generation N."""
    p = argparse.ArgumentParser(prog="world-evolve-worker")
    p.add_argument("--zeo", required=True)
    p.add_argument("--tls", metavar="DIR")
    p.add_argument("--run", required=True)
    p.add_argument("--generation", type=int, required=True)
    args = p.parse_args(argv)
    from world.evolve.run import work
    from .cli import _tolerant_streams
    _tolerant_streams()
    try:
        w = world.open(zeo=args.zeo, tls=args.tls)
    except LispError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        work(w, args.run, args.generation)
    except LispError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except Exception as e:      # a bug: one line for the coordinator, not a traceback
        print(f"error: internal error (a bug in world, please report it): "
              f"{type(e).__name__}: {' '.join(str(e).split())[:300]}", file=sys.stderr)
        return 3
    finally:
        w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
