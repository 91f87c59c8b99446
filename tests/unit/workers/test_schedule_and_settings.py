"""A pipeline's schedule as a cron line, and the config's ``workers:`` section with file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncengine.config import load_config
from syncengine.errors import ConfigErrors
from syncengine.workers.schedule import ScheduleError, to_cron
from syncengine.workers.settings import worker_settings


@pytest.mark.parametrize(("schedule", "cron"), [
    ("5m", "*/5 * * * *"), ("1m", "* * * * *"), ("1h", "0 * * * *"), ("6h", "0 */6 * * *"), ("1d", "0 0 * * *"),
    ("30s", "* * * * * */30"), ("*/10 * * * *", "*/10 * * * *"), ("0  3 * * 1", "0 3 * * 1"),
])
def test_intervals_and_cron_lines(schedule: str, cron: str) -> None:
    assert to_cron(schedule) == cron


@pytest.mark.parametrize(("schedule", "says"), [
    ("7m", "must divide 60"), ("2d", "need a cron line"), ("every day", "neither an interval"),
    ("61 * * * *", "neither an interval"), ("0s", "must divide 60"),
])
def test_bad_schedules_say_what_fits(schedule: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        to_cron(schedule)


def _config(tmp_path: Path, ledger: str, workers: str) -> Path:
    (tmp_path / "m.yaml").write_text("pairs: []\n")
    path = tmp_path / "config.yaml"
    path.write_text(f'ledger: "{ledger}"\nconnectors: {{a: {{type: csvfile}}}}\npipelines:\n'
                    f'  - {{name: p, left: a, right: a, mapping: m.yaml, schedule: 7s}}\nworkers:\n{workers}')
    return path


def test_defaults_take_the_ledger_url_without_its_driver(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "postgresql+psycopg://u@h:5432/db", "  concurrency: 3\n")
                         .parent / "config.yaml")
    config.pipelines["p"].schedule = "5m"
    settings = worker_settings(config)
    assert settings.database == "postgresql://u@h:5432/db"
    assert (settings.concurrency, settings.queues, settings.stalled_check) == (3, ["pipelines", "realtime"],
                                                                               "* * * * *")


def test_mistakes_are_named_with_their_line(tmp_path: Path) -> None:
    path = _config(tmp_path, "sqlite:///l.db",
                   "  concurency: 2\n  heartbeat_seconds: 5\n  stalled_after_seconds: 3\n  stalled_check: 7m\n")
    with pytest.raises(ConfigErrors) as caught:
        worker_settings(load_config(path))
    text = "\n".join(str(e) for e in caught.value.errors)
    assert "config.yaml:6" in text and "unknown workers key 'concurency' (did you mean 'concurrency'?)" in text
    assert "workers need PostgreSQL: the ledger is not a postgresql:// URL" in text
    assert "stalled_after_seconds must be longer than heartbeat_seconds" in text
    assert "must divide 60" in text
    assert "config.yaml:4:" in text and "pipeline 'p': schedule '7s'" in text
