"""The reconciler: detect changes on both sides, decide per record, apply, then advance cursors."""

from syncengine.reconcile.actions import Action, PairReport, describe_change
from syncengine.reconcile.pair import MassDeleteError, PairOptions, PairSync
from syncengine.reconcile.pipeline import RunReport, run_pipeline

__all__ = [
    "Action",
    "MassDeleteError",
    "PairOptions",
    "PairReport",
    "PairSync",
    "RunReport",
    "describe_change",
    "run_pipeline",
]
