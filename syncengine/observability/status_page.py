"""A read-only HTML status page at ``/``: pipelines, next runs, last runs with their errors,
cursors in words, records waiting for a retry, and open conflicts.

Server-rendered, no JavaScript (the response forbids scripts outright), refreshed by the browser
every 30 seconds. Every value is HTML-escaped and every free text (error messages) passes through
the HTTP layer's redaction; connector options, where secrets live, are never shown. The ledger is
read through its public API, the same reads ``syncengine status`` and ``conflicts list`` make.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

import structlog
from ruamel.yaml import YAML
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from syncengine.http.redact import redact_text
from syncengine.incremental import decode_cursor

if TYPE_CHECKING:
    from syncengine.config import Config, PipelineConfig
    from syncengine.ledger import Ledger
    from syncengine.ledger.rows import Conflict, CursorInfo, Failure, RunInfo

__all__ = ["RunError", "SchedulerInfo", "parse_run_error", "render_status", "status_routes"]

#: The scheduler's answer: pipeline name -> its next run (None: not scheduled); None: no scheduler.
SchedulerInfo = Callable[[], Mapping[str, datetime | None] | None]

RECENT_RUNS = 20
ERRORS_PER_RUN = 20
REFRESH_SECONDS = 30
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_log = structlog.get_logger("syncengine.observability")


# -- reading a run's error lines -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RunError:
    """One of a run's error lines, taken apart for people: which object, which record, what."""

    object: str
    record: str
    message: str


# The reconciler writes "<pair> left=<key> right=<key>: msg" (a write), "<pair> <side> <key>: msg"
# (a record that did not map), "<pair> <side>: msg" (an unreadable record) and "<pair>: msg" (the pair).
_WRITE_ERROR = re.compile(r"^(?P<obj>[^\s:]+) left=(?P<left>\S+) right=(?P<right>\S+): (?P<msg>.*)$", re.S)
_SIDE_ERROR = re.compile(r"^(?P<obj>[^\s:]+) (?P<side>left|right)(?: (?P<key>[^\s]+?))?: (?P<msg>.*)$", re.S)
_PAIR_ERROR = re.compile(r"^(?P<obj>[^\s:]+): (?P<msg>.*)$", re.S)
#: an unreadable record's message names its key the way RecordError does: "... key 'c9': ..."
_KEY_IN_MESSAGE = re.compile(r"\bkey '(?P<key>[^']*)'")


def parse_run_error(line: str) -> RunError:
    """A run's error line as (object, record, message); the whole line as the message otherwise."""
    line = redact_text(line)
    if match := _WRITE_ERROR.match(line):
        keys = [f"{side} {key}" for side in ("left", "right") if (key := match[side]) != "-"]
        return RunError(match["obj"], ", ".join(keys), match["msg"])
    if match := _SIDE_ERROR.match(line):
        key = match["key"] or ((named := _KEY_IN_MESSAGE.search(match["msg"])) and named["key"])
        record = f"{match['side']} {key}" if key else f"{match['side']} side"
        return RunError(match["obj"], record, match["msg"])
    if match := _PAIR_ERROR.match(line):
        return RunError(match["obj"], "", match["msg"])
    return RunError("", "", line)


# -- what the page shows -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PipelineRow:
    name: str
    left: str
    right: str
    schedule: str | None
    next_run: datetime | None
    scheduled_here: bool
    last_run: RunInfo | None
    open_conflicts: int


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the page shows, read in one go (and rendered by :func:`render_status`)."""

    generated_at: datetime
    pipelines: list[PipelineRow]
    runs: list[RunInfo]
    cursors: list[CursorInfo]
    failures: list[Failure]
    conflicts: list[Conflict]


def _pair_names(pipe: PipelineConfig) -> list[str]:
    """The object pairs a pipeline's mapping names (read as plain YAML: no connector is built)."""
    try:
        data = YAML(typ="safe").load(pipe.mapping.read_text(encoding="utf-8"))
        return [str(p["name"]) for p in data.get("pairs", []) if isinstance(p, dict) and "name" in p]
    except Exception:  # a broken mapping is `syncengine validate`'s to report, not the page's
        return []


def read_status(config: Config, ledger: Ledger, scheduler_info: SchedulerInfo | None = None) -> StatusView:
    """Read the page's contents from the config, the ledger and the scheduler."""
    next_runs = None
    if scheduler_info is not None:
        try:
            next_runs = scheduler_info()
        except Exception as exc:  # a scheduler in trouble must not take the page down with it
            _log.warning("status_page.scheduler_info_failed", error=str(exc))
    runs = ledger.recent_runs(limit=RECENT_RUNS)
    conflicts = ledger.list_conflicts(status="open")
    cursors = ledger.cursors()
    pipelines: list[PipelineRow] = []
    failures: list[Failure] = []
    for name, pipe in config.pipelines.items():
        last = ledger.recent_runs(limit=1, pipeline=name)
        left, right = config.connectors.get(pipe.left), config.connectors.get(pipe.right)
        pipelines.append(PipelineRow(
            name=name,
            left=f"{pipe.left} ({left.type})" if left else pipe.left,
            right=f"{pipe.right} ({right.type})" if right else pipe.right,
            schedule=pipe.schedule,
            next_run=next_runs.get(name) if next_runs is not None else None,
            scheduled_here=next_runs is not None,
            last_run=last[0] if last else None,
            open_conflicts=sum(1 for c in conflicts if c.pipeline == name),
        ))
        pairs = dict.fromkeys([*_pair_names(pipe), *(c.pair for c in cursors if c.pipeline == name)])
        for pair in pairs:
            for side in ("left", "right"):
                failures.extend(ledger.failures(name, pair, side))
    return StatusView(datetime.now(UTC), pipelines, runs, cursors, failures, conflicts)


# -- rendering -------------------------------------------------------------------------------------

def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _outcome(status: str | None) -> str:
    status = status or "running"
    return f'<span class="outcome {_e(status)}">{_e(status)}</span>'


def _table(cls: str, head: Iterable[str], rows: Iterable[Iterable[str]], empty: str) -> str:
    """A table; ``rows`` hold markup that is already escaped."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="empty {_e(cls)}">{_e(empty)}</p>'
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f'<table class="{_e(cls)}"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _written(counts: Mapping[str, int]) -> str:
    """A run's counts in words: "3 created on right, 1 updated on left, 2 linked"."""
    parts = []
    for kind in ("created", "updated", "deleted", "archived"):
        for side in ("left", "right"):
            if counts.get(f"{kind}_{side}"):
                parts.append(f"{counts[f'{kind}_{side}']} {kind} on {side}")
    for name, one, many in (("linked", "linked", "linked"), ("conflicts", "conflict", "conflicts"),
                            ("errors", "error", "errors")):
        if counts.get(name):
            parts.append(f"{counts[name]} {one if counts[name] == 1 else many}")
    return ", ".join(parts) or "nothing to do"


def describe_cursor(cursor: str | None) -> str:
    """A cursor in words: "changes up to 2026-12-01 10:00:00 UTC (record c3)"."""
    if not cursor:
        return "not started (the next run reads everything)"
    try:
        mark, extra = decode_cursor(cursor)
    except (ValueError, TypeError):
        return redact_text(cursor if len(cursor) <= 120 else cursor[:117] + "...")
    parts = []
    if mark is not None:
        parts.append(f"changes up to {_when(mark.updated_at)}" + (f" (record {mark.key})" if mark.key else ""))
    parts.extend(f"{name.replace('_', ' ')}: {value}" for name, value in sorted(extra.items()))
    return redact_text("; ".join(parts)) or "nothing read yet"


def _with_reason(run: RunInfo) -> str:
    """A run's outcome, and why when it is not ok."""
    reason = f'<div class="reason">{_e(redact_text(run.reason))}</div>' if run.reason else ""
    return _outcome(run.status) + reason


def _run_cells(run: RunInfo) -> list[str]:
    errors = f' (<a href="#run-{run.id}-errors">details</a>)' if run.errors else ""
    return [str(run.id), _e(run.pipeline), _e(run.mode), _e(_when(run.started_at)),
            _e(_duration(run.duration_seconds)), _with_reason(run), _e(_written(run.counts)) + errors]


def _run_errors(run: RunInfo) -> str:
    if not run.errors:
        return ""
    errors = [parse_run_error(line) for line in run.errors[:ERRORS_PER_RUN]]
    more = len(run.errors) - len(errors)
    table = _table("errors", ("object", "record", "message"),
                   ([_e(x.object), _e(x.record), _e(x.message)] for x in errors), "")
    tail = f"<p>... and {more} more</p>" if more > 0 else ""
    return (f'<section class="run-errors" id="run-{run.id}-errors"><h3>Errors of run {run.id} '
            f"({_e(run.pipeline)}, {_e(_when(run.started_at))})</h3>{table}{tail}</section>")


def _conflict_fields(conflict: Conflict) -> str:
    base, left, right = conflict.base or {}, conflict.left or {}, conflict.right or {}
    rows = []
    for name in conflict.fields:
        cells = [base.get(name, "∅"), left.get(name, "∅"), right.get(name, "∅")]
        rows.append([_e(name), *(_e(redact_text(str(v))) for v in cells)])
    return _table("conflict-fields", ("field", "last agreed", "left now", "right now"), rows, "no fields recorded")


def render_status(view: StatusView) -> str:
    """The page's HTML; every value escaped."""
    pipelines = _table(
        "pipelines", ("pipeline", "left", "right", "schedule", "next run", "last run", "open conflicts"),
        ([_e(p.name), _e(p.left), _e(p.right), _e(p.schedule or "not scheduled"),
          _e(_when(p.next_run) if p.next_run else ("none" if p.scheduled_here else "no scheduler running")),
          f"{_with_reason(p.last_run)} {_e(_when(p.last_run.started_at))}" if p.last_run else "never run",
          str(p.open_conflicts)] for p in view.pipelines),
        "No pipelines in the config.")
    runs = _table("runs", ("run", "pipeline", "mode", "started", "took", "outcome", "did"),
                  (_run_cells(r) for r in view.runs), "No runs yet.")
    errors = "".join(_run_errors(r) for r in view.runs)
    cursors = _table("cursors", ("pipeline", "object", "side", "position", "saved"),
                     ([_e(c.pipeline), _e(c.pair), _e(c.side), _e(describe_cursor(c.cursor)), _e(_when(c.updated_at))]
                      for c in view.cursors), "No cursors yet: no run has finished reading.")
    failures = _table("failures", ("pipeline", "object", "side", "record", "tries", "last seen", "message"),
                      ([_e(f.pipeline), _e(f.pair), _e(f.side), _e(f.key), str(f.attempts), _e(_when(f.last_seen)),
                        _e(redact_text(f.error))] for f in view.failures), "No records waiting for a retry.")
    conflicts = "".join(
        f'<section class="conflict" id="conflict-{c.id}"><h3>Conflict {c.id}: {_e(c.pipeline)} / {_e(c.pair)}, '
        f"left {_e(c.left_key)} ↔ right {_e(c.right_key)}</h3><p>open since {_e(_when(c.created_at))}; fields "
        f"{_e(', '.join(c.fields))}. Settle with <code>syncengine conflicts resolve {c.id} --take left|right</code>"
        f"</p>{_conflict_fields(c)}</section>"
        for c in view.conflicts
    ) or '<p class="empty conflicts">No open conflicts.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>syncengine status</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
.outcome {{ font-weight: bold; padding: 0 .3em; border-radius: 3px; }}
.ok {{ color: #176f2c; }} .partial {{ color: #8a5a00; background: #fff3d6; }}
.error {{ color: #a31515; background: #fde2e2; }} .running {{ color: #1f4f99; }}
.reason {{ font-size: 12px; color: #555; max-width: 40em; }}
.empty {{ color: #666; font-style: italic; }}
</style></head>
<body>
<h1>syncengine status</h1>
<p>As of {_e(_when(view.generated_at))}; this page refreshes every {REFRESH_SECONDS} s and changes nothing.</p>
<h2 id="pipelines">Pipelines</h2>{pipelines}
<h2 id="runs">Last runs</h2>{runs}{errors}
<h2 id="failures">Records waiting for a retry</h2>{failures}
<h2 id="cursors">Cursors</h2>{cursors}
<h2 id="conflicts">Open conflicts ({len(view.conflicts)})</h2>{conflicts}
</body></html>
"""


def status_routes(config: Config, ledger: Ledger, scheduler_info: SchedulerInfo | None = None,
                  path: str = "/") -> list[Route]:
    """``GET /``: the status page. ``scheduler_info`` gives the next run times (None: no scheduler)."""

    def status_page(request: Request) -> HTMLResponse:
        try:
            view = read_status(config, ledger, scheduler_info)
        except Exception as exc:  # the page says what is wrong instead of a bare 500
            _log.warning("status_page.read_failed", error=str(exc))
            body = (f"<!doctype html><title>syncengine status</title><h1>syncengine status</h1>"
                    f"<p>The ledger could not be read: {_e(redact_text(str(exc)))}</p>")
            return HTMLResponse(body, status_code=503, headers=_HEADERS)
        return HTMLResponse(render_status(view), headers=_HEADERS)

    return [Route(path, status_page, methods=["GET"], name="status_page")]
