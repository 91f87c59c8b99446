"""One run of a pipeline: every object pair in dependency order, recorded in the ledger's runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import structlog

from syncengine.connector import Connector
from syncengine.errors import AuthError, ConnectorError, SyncEngineError
from syncengine.reconcile.actions import PairReport
from syncengine.reconcile.pair import PairOptions, PairSync, ProgressFn
from syncengine.reconcile.refs import LedgerRefs

if TYPE_CHECKING:
    from syncengine.ledger import Ledger
    from syncengine.mapping import CompiledMapping

__all__ = ["RunReport", "run_pipeline"]

log = structlog.get_logger("syncengine.reconcile")


@dataclass(slots=True)
class RunReport:
    pipeline: str
    mode: str
    pairs: list[PairReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    run_id: int | None = None

    @property
    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for pair in self.pairs:
            total.update(pair.counts)
        return total

    @property
    def ok(self) -> bool:
        return not self.errors and all(not p.errors for p in self.pairs)

    @property
    def writes(self) -> int:
        return sum(p.writes for p in self.pairs)


def run_pipeline(
    *,
    ledger: Ledger,
    pipeline: str,
    mapping: CompiledMapping,
    left: Connector,
    right: Connector,
    options: PairOptions,
    only_pairs: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
) -> RunReport:
    """One run at a time: a run that writes holds the pipeline's lease for its whole length, or
    raises :class:`~syncengine.ledger.PipelineBusyError` naming the run that holds it."""
    run = partial(_run_pipeline, ledger=ledger, pipeline=pipeline, mapping=mapping, left=left, right=right,
                  options=options, only_pairs=only_pairs, progress=progress)
    if options.dry_run:
        return run()
    from syncengine.ledger.run_lease import hold_pipeline  # the ledger package loads on use, as in the CLI

    with hold_pipeline(ledger, pipeline):
        return run()


def _run_pipeline(
    *,
    ledger: Ledger,
    pipeline: str,
    mapping: CompiledMapping,
    left: Connector,
    right: Connector,
    options: PairOptions,
    only_pairs: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
) -> RunReport:
    """Run every pair (or ``only_pairs``). A failing pair is reported and the others still run,
    except on an authorization failure, which stops the pipeline: nothing else can succeed."""
    mode = "plan" if options.dry_run else ("full" if options.full else "incremental")
    report = RunReport(pipeline, mode)
    if not options.dry_run:
        report.run_id = ledger.start_run(pipeline, mode)
    referenced = {name for pair in mapping.pairs for name in pair.refs}
    refs = LedgerRefs(ledger, pipeline)
    for pair in mapping.pairs:
        if only_pairs and pair.name not in only_pairs:
            continue
        sync = PairSync(ledger=ledger, pipeline=pipeline, pair=pair, left=left, right=right,
                        options=options, progress=progress, referenced=pair.name in referenced, refs=refs)
        try:
            report.pairs.append(sync.run())
        except AuthError as exc:
            report.pairs.append(sync.report)
            report.errors.append(f"{pair.name}: {exc}")
            log.error("pair failed", pipeline=pipeline, pair=pair.name, error=str(exc))
            break
        except (ConnectorError, SyncEngineError) as exc:
            report.pairs.append(sync.report)
            report.errors.append(f"{pair.name}: {exc}")
            log.error("pair failed", pipeline=pipeline, pair=pair.name, error=str(exc))
        except Exception as exc:
            # A bug, or a library error a connector failed to type: what was committed stays
            # committed, the cursors did not move, and the run is recorded as failed. The rest of
            # the pipeline is not attempted on top of an unknown state.
            report.pairs.append(sync.report)
            report.errors.append(f"{pair.name}: unexpected {type(exc).__name__}: {exc}")
            log.exception("pair crashed", pipeline=pipeline, pair=pair.name)
            break
        else:
            log.info("pair done", pipeline=pipeline, pair=pair.name, **dict(sync.report.counts))
    report.finished_at = datetime.now(UTC)
    if report.run_id is not None:
        errors = report.errors + [e for p in report.pairs for e in p.errors]
        ledger.finish_run(report.run_id, "ok" if report.ok else "error", dict(report.counts), errors[:500])
    return report
