"""One run of a pipeline: every object pair in dependency order, recorded in the ledger's runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import structlog

from syncengine.connector import Connector
from syncengine.errors import (
    AuthError,
    ConfigError,
    ConfigErrors,
    ConnectorError,
    RateLimitedError,
    SyncEngineError,
    WriteBlockedError,
)
from syncengine.ledger.errors import LedgerStorageError, NotALedgerError, PipelineBusyError
from syncengine.mapping import RecordMappingError, UnresolvedRef
from syncengine.reconcile.actions import PairReport
from syncengine.reconcile.pair import PairOptions, PairSync, ProgressFn, StopFn, Stopped
from syncengine.reconcile.refs import LedgerRefs

if TYPE_CHECKING:
    from syncengine.ledger import Ledger
    from syncengine.mapping import CompiledMapping

__all__ = ["RunReport", "run_pipeline"]

log = structlog.get_logger("syncengine.reconcile")


#: A run's stored counts hold the totals ("created_left") and each pair's ("clients:created_left").
PAIR_COUNT_SEPARATOR = ":"


@dataclass(slots=True)
class RunReport:
    pipeline: str
    mode: str
    pairs: list[PairReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    run_id: int | None = None
    #: why the run stopped early (asked to stop between batches), if it did.
    stopped: str | None = None
    #: pairs cut short by a rate limit (HTTP 429 past the retries); also listed in ``errors``.
    rate_limited: list[str] = field(default_factory=list)
    #: a mistake in the config met during the run (a connector's business_id the API does not
    #: know): it stopped the run, is also listed in ``errors`` (once), and the CLI exits 2 on it.
    config_errors: list[str] = field(default_factory=list)
    #: what stopped the run from outside it: a file another process kept locked past the wait (a
    #: CSV file's lock), a ledger that cannot be written (disk full). Also listed in ``errors``;
    #: the CLI exits 2 on it, as for a pipeline another run holds. The next run carries on.
    busy: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """ok; partial: part of the work is done and the rest left for the next run (asked to stop,
        rate limited, records that failed and are retried); error: a pair failed outright.
        Committed work stays committed either way, and no cursor moved past what was not."""
        if any(e not in self.rate_limited for e in self.errors):
            return "error"
        if self.stopped or self.rate_limited or self.failed_records:
            return "partial"
        return "ok"

    @property
    def failed_records(self) -> int:
        """Records that could not be read, mapped or written in this run (retried next run)."""
        return sum(p.counts.get("errors", 0) for p in self.pairs)

    @property
    def reason(self) -> str | None:
        """Why the run is not ok, in one line for people (None when it is ok)."""
        hard = [e for e in self.errors if e not in self.rate_limited]
        if hard:
            return hard[0] + (f" (+{len(hard) - 1} more)" if len(hard) > 1 else "")
        parts = []
        if self.stopped:
            parts.append(f"interrupted: {self.stopped}")
        if self.rate_limited:
            parts.append(f"rate limited (HTTP 429): {self.rate_limited[0]}")
        if self.failed_records:
            parts.append(f"{self.failed_records} record(s) failed, retried next run")
        return "; ".join(parts) or None

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
    should_stop: StopFn | None = None,
    keys: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> RunReport:
    """One run at a time: a run that writes holds the pipeline's lease for its whole length, or
    raises :class:`~syncengine.ledger.PipelineBusyError` naming the run that holds it."""
    run = partial(_run_pipeline, ledger=ledger, pipeline=pipeline, mapping=mapping, left=left, right=right,
                  options=options, only_pairs=only_pairs, progress=progress, keys=keys)
    if options.dry_run:
        return run(should_stop=should_stop)
    from syncengine.ledger.run_lease import hold_pipeline  # the ledger package loads on use, as in the CLI

    with hold_pipeline(ledger, pipeline) as lease:

        def stop_or_lost() -> bool:
            # A lease lost to another run (this one stalled past its expiry) ends this run
            # between batches, before it writes on top of the other.
            lease.check()
            return should_stop() if should_stop is not None else False

        return run(should_stop=stop_or_lost)


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
    should_stop: StopFn | None = None,
    keys: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> RunReport:
    """Run every pair (or ``only_pairs``). A failing pair is reported and the others still run,
    except on an authorization failure, which stops the pipeline: nothing else can succeed.
    ``keys`` (per pair, per side) syncs only those records; ``should_stop`` is asked between
    batches, and a run stopped by it is recorded as partial."""
    mode = "plan" if options.dry_run else ("full" if options.full else "incremental")
    if keys is not None and not options.dry_run:
        mode = "keyed"
    report = RunReport(pipeline, mode)
    if not options.dry_run:
        report.run_id = ledger.start_run(pipeline, mode)
    referenced = {name for pair in mapping.pairs for name in pair.refs}
    refs = LedgerRefs(ledger, pipeline)
    refs.exists = _existence_check(mapping, {"left": left, "right": right}, refs)
    for pair in mapping.pairs:
        if only_pairs and pair.name not in only_pairs:
            continue
        if keys is not None and pair.name not in keys:
            continue
        sync = PairSync(ledger=ledger, pipeline=pipeline, pair=pair, left=left, right=right,
                        options=options, progress=progress, referenced=pair.name in referenced, refs=refs,
                        should_stop=should_stop, keys=keys.get(pair.name) if keys is not None else None)
        try:
            report.pairs.append(sync.run())
        except Stopped as exc:
            report.pairs.append(sync.report)
            report.stopped = str(exc)
            log.info("run stopped", pipeline=pipeline, pair=pair.name)
            break
        except RateLimitedError as exc:
            # The API refused past our retries: what was committed stays, the rest waits for the
            # next run (recorded as partial with this reason, never as success).
            report.pairs.append(sync.report)
            message = f"{pair.name}: {exc}"
            report.errors.append(message)
            report.rate_limited.append(message)
            log.warning("pair rate limited", pipeline=pipeline, pair=pair.name, error=str(exc))
        except (ConfigError, ConfigErrors) as exc:
            # The same mistake would fail every other pair: stop, and report it once for the run.
            report.pairs.append(sync.report)
            message = _config_message(exc)
            report.errors.append(message)
            report.config_errors.append(message)
            # Not the message itself: the CLI prints it and the run record keeps it (`runs show`).
            # Info, not warning: a warning would print a second line beside the CLI's one.
            log.info("run stopped by a config error", pipeline=pipeline, pair=pair.name, run_id=report.run_id)
            break
        except (LedgerStorageError, NotALedgerError) as exc:
            # The ledger's disk is full (or a file-size limit is reached), or its file is damaged:
            # the transaction was rolled back; nothing more is written, and the run stops with
            # this one line (exit 2).
            report.pairs.append(sync.report)
            message = str(exc)
            report.errors.append(message)
            report.busy.append(message)
            log.info("run stopped: the ledger cannot be used", pipeline=pipeline, pair=pair.name)
            break
        except WriteBlockedError as exc:
            # A file another process keeps locked, or one whose mode forbids writing: nothing of the
            # batch was written; the run stops here with this one line (the CLI exits 2) and the
            # next run tries again.
            report.pairs.append(sync.report)
            message = f"{pair.name}: {exc}"
            report.errors.append(message)
            report.busy.append(message)
            log.info("run stopped: a write was blocked", pipeline=pipeline, pair=pair.name, run_id=report.run_id)
            break
        except (AuthError, PipelineBusyError) as exc:
            # Nothing else can succeed: no authorization, or another run took the pipeline over.
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
        errors = list(dict.fromkeys(report.errors + [e for p in report.pairs for e in p.errors]))
        counts = dict(report.counts)
        for p in report.pairs:  # per pair too, for `syncengine runs show`: "<pair>:<count>"
            counts.update({f"{p.pair}{PAIR_COUNT_SEPARATOR}{k}": v for k, v in p.counts.items() if v})
        ledger.finish_run(report.run_id, report.status, counts, errors[:500], reason=report.reason)
    return report


def _config_message(exc: ConfigError | ConfigErrors) -> str:
    """A config error met at run time, without the ``<config>:`` of an error that has no file."""
    errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    return "; ".join(str(e) if e.file else (f"{e.message} ({e.hint})" if e.hint else e.message) for e in errors)


def _existence_check(mapping: CompiledMapping, connectors: dict[str, Connector],
                     refs: LedgerRefs) -> Callable[[str, str, str], bool]:
    """Whether a referenced record still exists: read by key through its pair's connector. A
    record that itself depends on a deleted one, in a pair that does not keep such dependents,
    counts as gone too (a payment of an invoice of a deleted client). A failed read counts as
    "exists", so the dependent is retried rather than taken for an orphan."""

    def exists(pair_name: str, side: str, key: str) -> bool:
        pair = mapping.pair(pair_name)
        obj = pair.left_object if side == "left" else pair.right_object
        try:
            found = [r for r in connectors[side].get(obj, [key]) if not r.deleted]
        except ConnectorError:
            return True
        if not found:
            return False
        if pair.refs and pair.deletes != "ignore":
            try:
                pair.project(side, found[0].fields, refs)  # type: ignore[arg-type]
            except UnresolvedRef as exc:
                return not exc.gone
            except RecordMappingError:
                return True
        return True

    return exists
