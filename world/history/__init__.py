"""In-image version control: atomic and human commits on a verifiable chain,
rebuilding worlds from their history, production images and dumps.

The modules: `commits` (the persistent objects), `record` (making commits),
`views` (verify, log, diff), `rebuild` (replaying history into a world a
factory makes: world/build.py, above the session, verifies the source and
builds), `provenance` (what a built image records of its source), `images`
(development images), `order` and `dump`, and `prims` (the Lisp primitives).
"""
from . import prims  # noqa: F401  (registers the history primitives)
from .commits import AtomicCommit, History, HumanCommit
from .record import AuditRefused, PendingCommits, attach, detach, history_of

__all__ = ["AtomicCommit", "AuditRefused", "History", "HumanCommit", "PendingCommits",
           "attach", "detach", "history_of"]
