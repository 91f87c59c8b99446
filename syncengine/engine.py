"""The application's one entry point: ``Engine(config).sync(pipeline, ...)``.

The CLI, the daemon and a worker all run pipelines through this: it owns the config, the ledger,
the connectors and the compiled mappings for as long as it lives, and scopes process-wide
settings (the garbage collector's tuning) to each run. ``keys`` syncs just the named records
(refetched on both sides, mapped, merged, applied): the path a webhook takes. ``should_stop`` is
asked between batches, so a service told to stop finishes the batch in hand and returns.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncengine.config import Config, load_config
from syncengine.reconcile import PairOptions, RunReport, run_pipeline
from syncengine.reconcile.pair import ProgressFn, StopFn

if TYPE_CHECKING:
    from syncengine.ledger import Ledger
    from syncengine.mapping import CompiledMapping

__all__ = ["Engine", "RecordKeys", "SyncOptions"]

#: the records a keyed sync covers: (connector name, object) -> keys on that connector.
RecordKeys = Mapping[tuple[str, str], Sequence[str]]


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """How one run behaves (the config's safety settings fill in the rest)."""

    full: bool = False
    dry_run: bool = False
    allow_mass_delete: bool = False
    #: only these object pairs (None: all of them).
    pairs: Sequence[str] | None = None
    batch_size: int = 2000


@contextmanager
def batch_gc() -> Iterator[None]:
    """A reconcile makes millions of short-lived objects next to large long-lived ones (key sets,
    link maps); the default GC thresholds rescan the long-lived ones over and over (up to 40% of
    a million-row run). For the run only: freeze what exists and collect the young generation
    less often; the process's own settings come back afterwards."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class Engine:
    """Config + ledger + connectors + mappings, opened once, used for any number of runs."""

    def __init__(self, config: Config | str | Path, ledger: Ledger | None = None) -> None:
        from syncengine.ledger import Ledger

        self.config = config if isinstance(config, Config) else load_config(config)
        self._owns_ledger = ledger is None
        self.ledger = ledger if ledger is not None else Ledger.open(self.config.ledger_url)
        self._mappings: dict[str, CompiledMapping] = {}

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.config.close()
        if self._owns_ledger:
            self.ledger.close()

    def mapping(self, pipeline: str | None = None) -> CompiledMapping:
        """The pipeline's mapping, validated against both connectors' objects (compiled once)."""
        pipe = self.config.pipeline(pipeline)
        if pipe.name not in self._mappings:
            self._mappings[pipe.name] = self.config.mapping(pipe, self.ledger)
        return self._mappings[pipe.name]

    def sync(
        self,
        pipeline: str | None = None,
        options: SyncOptions | None = None,
        keys: RecordKeys | None = None,
        should_stop: StopFn | None = None,
        progress: ProgressFn | None = None,
    ) -> RunReport:
        """One run of ``pipeline`` (the only one, when None). With ``keys``, only those records."""
        options = options or SyncOptions()
        pipe = self.config.pipeline(pipeline)
        mapping = self.mapping(pipe.name)
        pair_options = PairOptions(
            full=options.full, dry_run=options.dry_run, allow_mass_delete=options.allow_mass_delete,
            max_delete_fraction=self.config.safety.max_delete_fraction,
            min_mass_delete=self.config.safety.min_mass_delete, batch_size=options.batch_size,
        )
        pair_keys = self._pair_keys(pipe.left, pipe.right, mapping, keys) if keys is not None else None
        only = list(options.pairs) if options.pairs else None
        if pair_keys is not None:
            only = [name for name in pair_keys if only is None or name in only]
        left = self.config.connector(pipe.left, self.ledger)
        right = self.config.connector(pipe.right, self.ledger)
        for connector in (left, right):
            if hasattr(connector, "dry_run"):  # a connector that writes while reading (keys it assigns)
                connector.dry_run = options.dry_run
        # A keyed sync touches a few records: a full collection per run (batch_gc) would be most
        # of its time (0.33 s of 0.5 s on a loaded 2-core machine, bench/workers_realtime.py).
        with batch_gc() if keys is None else nullcontext():
            return run_pipeline(
                ledger=self.ledger, pipeline=pipe.name, mapping=mapping,
                left=left,
                right=right,
                options=pair_options, only_pairs=only, progress=progress,
                should_stop=should_stop, keys=pair_keys,
            )

    def plan(self, pipeline: str | None = None, options: SyncOptions | None = None) -> RunReport:
        """What ``sync`` would do; nothing is written anywhere, not even the ledger."""
        base = options or SyncOptions()
        return self.sync(pipeline, SyncOptions(full=base.full, dry_run=True, allow_mass_delete=True,
                                               pairs=base.pairs, batch_size=base.batch_size))

    @staticmethod
    def _pair_keys(left: str, right: str, mapping: CompiledMapping,
                   keys: RecordKeys) -> dict[str, dict[str, list[str]]]:
        """Per pair and side, the keys a keyed sync refetches."""
        out: dict[str, dict[str, list[str]]] = {}
        for (connector, obj), wanted in keys.items():
            for pair in mapping.pairs:
                sides: list[tuple[str, Any]] = [("left", pair.left_object), ("right", pair.right_object)]
                for side, pair_obj in sides:
                    if pair_obj == obj and connector == (left if side == "left" else right):
                        out.setdefault(pair.name, {}).setdefault(side, []).extend(str(k) for k in wanted)
        return out
