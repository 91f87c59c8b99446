"""Issue 7, point 4: `syncengine objects [CONNECTOR [OBJECT]]` through the real command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncengine.cli import app

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    assert runner.invoke(app, ["init", str(tmp_path)]).exit_code == 0
    path = tmp_path / "config.yaml"
    text = path.read_text(encoding="utf-8")
    # A FreshBooks connector whose API is nowhere: describing objects must not call it.
    books = ("  books:\n    type: freshbooks\n    base_url: http://127.0.0.1:9\n    client_id: id\n"
             "    client_secret: secret\n    redirect_uri: http://127.0.0.1:8976/callback\n\n")
    path.write_text(text.replace("connectors:\n", "connectors:\n" + books, 1), encoding="utf-8")
    return path


def lines_with(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(w in line for w in words)]


def sections(text: str) -> dict[str, list[str]]:
    """`name (type): N objects` headers, each with its indented object lines."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("  "):
            current.append(line.strip())
        elif " object" in line and "(" in line:
            current = found.setdefault(line.split(":")[0], [])
    return found


def test_all_connectors_objects_with_capabilities(config: Path) -> None:
    result = runner.invoke(app, ["objects", "-c", str(config)])
    assert result.exit_code == 0, result.output
    found = sections(result.stdout)
    assert set(found) == {"sheet (csvfile)", "db (sqldb)", "books (freshbooks)"}, result.stdout
    assert [line.split()[0] for line in found["sheet (csvfile)"]] == ["clients"]
    invoices = [line for line in found["books (freshbooks)"] if line.startswith("invoices ")]
    assert invoices and "key id" in invoices[0] and "list, get, create, update" in invoices[0], result.stdout
    reports = [line for line in found["books (freshbooks)"] if line.startswith("balance_sheet ")]
    assert reports and reports[0].endswith("can: list, get"), result.stdout
    assert "books (freshbooks): 14 objects" in result.stdout
    assert not (config.parent / "syncengine.db").exists()  # describing creates no ledger


def test_one_connector(config: Path) -> None:
    result = runner.invoke(app, ["objects", "db", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert list(sections(result.stdout)) == ["db (sqldb)"], result.stdout
    assert sections(result.stdout)["db (sqldb)"][0].startswith("clients  key id, 9 fields; can: list")


def test_one_objects_fields_with_read_only(config: Path) -> None:
    result = runner.invoke(app, ["objects", "books", "clients", "-c", str(config)])
    assert result.exit_code == 0, result.output
    signup = lines_with(result.stdout, "signup_date")
    assert signup and "datetime" in signup[0] and "read-only" in signup[0] and "sign-up time" in signup[0]
    email = lines_with(result.stdout, "email ")
    assert email and "read-only" not in email[0] and "unique within a business" in email[0], result.stdout
    columns = runner.invoke(app, ["objects", "db", "clients", "-c", str(config)])
    assert columns.exit_code == 0 and lines_with(columns.stdout, "balance", "decimal"), columns.output


def test_unknown_connector_or_object_is_one_line_and_exit_2(config: Path) -> None:
    result = runner.invoke(app, ["objects", "bokos", "-c", str(config)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no connector 'bokos'" in lines[0] and "did you mean 'books'" in lines[0], lines
    result = runner.invoke(app, ["objects", "books", "clinets", "-c", str(config)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no object 'clinets'" in result.stderr and "'clients'" in result.stderr
