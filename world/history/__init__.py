"""In-image version control: atomic and human commits on a verifiable chain,
rebuilding worlds from their history, production images and dumps."""
from . import prims  # noqa: F401  (registers the history primitives)
from .commits import AtomicCommit, History, HumanCommit
from .record import (AuditRefused, PendingCommits, attach, commit, detach, history_of,
                     pending_symbols, record)
from .rebuild import RebuildReport, rebuild

__all__ = ["AtomicCommit", "AuditRefused", "History", "HumanCommit", "PendingCommits",
           "RebuildReport", "attach", "commit", "detach", "history_of", "pending_symbols",
           "rebuild", "record"]
