"""Issue 7, point 2: `syncengine validate --online` checks each connector against what it connects
to (through its plugin's check): FreshBooks tokens and business_id, CSV files, the database.
One line per failing connector, exit code 2."""

from __future__ import annotations

from pathlib import Path

from connectors.freshbooks.sandbox import SandboxServer
from tests.e2e.freshbooks_env import environment, example_config, store_token, syncengine
from tests.e2e.test_operator_cli import run


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_without_tokens_names_the_connector_and_the_auth_command(tmp_path: Path) -> None:
    with SandboxServer(seed=1, port=0) as sb:
        env = environment(sb, tmp_path)
        example_config(tmp_path)
        done = syncengine(tmp_path, env, "validate", "--online")
    assert done.returncode == 2, done.stdout + done.stderr
    assert _lines(done.stderr) == [next(line for line in _lines(done.stderr) if "connector books" in line)]
    assert "FreshBooks" in done.stderr and "syncengine auth freshbooks" in done.stderr, done.stderr
    assert "ok connector db (SQL)" in done.stdout and "Traceback" not in done.stderr


def test_expired_tokens_that_do_not_refresh(tmp_path: Path) -> None:
    with SandboxServer(seed=1, port=0) as sb:
        env = environment(sb, tmp_path)
        example_config(tmp_path)
        store_token(tmp_path, env, {"access_token": "expired", "refresh_token": "revoked",
                                    "expires_at": 1_000_000, "token_type": "Bearer"})
        done = syncengine(tmp_path, env, "validate", "--online")
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(_lines(done.stderr)) == 1, done.stderr
    assert "connector books (FreshBooks)" in done.stderr and "syncengine auth freshbooks" in done.stderr


def test_a_business_id_the_login_cannot_see_lists_the_ones_it_can(tmp_path: Path) -> None:
    with SandboxServer(seed=1, port=0, second_business=True) as sb:
        env = environment(sb, tmp_path)
        example_config(tmp_path, business_id=4242)
        store_token(tmp_path, env, sb.issue_tokens())
        done = syncengine(tmp_path, env, "validate", "--online")
        businesses = sb.businesses
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(_lines(done.stderr)) == 1, done.stderr
    line = done.stderr
    assert "connector books (FreshBooks)" in line and "config.yaml:" in line
    assert "business_id 4242 is not one of this login's businesses" in line
    assert all(str(b["business_id"]) in line for b in businesses), line


def test_several_businesses_and_no_business_id(tmp_path: Path) -> None:
    with SandboxServer(seed=1, port=0, second_business=True) as sb:
        env = environment(sb, tmp_path)
        example_config(tmp_path)
        store_token(tmp_path, env, sb.issue_tokens())
        done = syncengine(tmp_path, env, "validate", "--online")
    assert done.returncode == 2 and "belongs to 2 businesses" in done.stderr, done.stdout + done.stderr
    assert len(_lines(done.stderr)) == 1, done.stderr


def test_all_good(tmp_path: Path) -> None:
    with SandboxServer(seed=1, port=0, second_business=True) as sb:
        env = environment(sb, tmp_path)
        wanted = sb.businesses[1]["business_id"]
        example_config(tmp_path, business_id=wanted)
        store_token(tmp_path, env, sb.issue_tokens())
        done = syncengine(tmp_path, env, "validate", "--online")
        plain = syncengine(tmp_path, env, "validate")  # offline: no call to FreshBooks
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok connector books (FreshBooks): authorized; business {wanted}" in done.stdout, done.stdout
    assert "ok connector db (SQL)" in done.stdout
    assert plain.returncode == 0 and "connector books" not in plain.stdout


def test_csv_read_only_and_a_database_that_does_not_answer(tmp_path: Path) -> None:
    assert run(tmp_path, "init", ".").returncode == 0
    ok = run(tmp_path, "validate", "--online")
    assert ok.returncode == 0 and "ok connector sheet (CSV)" in ok.stdout and "ok connector db (SQL)" in ok.stdout

    (tmp_path / "clients.csv").chmod(0o444)
    config = tmp_path / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("sqlite:///clients.db", "postgresql://postgres@127.0.0.1:1/none"),
                      encoding="utf-8")
    before = (tmp_path / "clients.csv").read_bytes()
    done = run(tmp_path, "validate", "--online")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    csv_line = next(line for line in _lines(done.stderr) if "connector sheet (CSV)" in line)
    assert "clients.csv" in csv_line and "chmod u+w" in csv_line
    db_line = next(line for line in _lines(done.stderr) if "connector db (SQL)" in line)
    assert "port 1" in db_line and "reachable" in db_line
    assert len(_lines(done.stderr)) == 2, done.stderr  # the pipeline on them is not reported again
    assert (tmp_path / "clients.csv").read_bytes() == before

    offline = run(tmp_path, "validate")  # the mapping check meets the database too: one line, no traceback
    assert offline.returncode == 2 and "Traceback" not in offline.stderr, offline.stderr
    assert _lines(offline.stderr) == [next(line for line in _lines(offline.stderr) if "port 1" in line)]


def test_stripe_key_accepted_and_refused(tmp_path: Path) -> None:
    """The Stripe plugin had no online check (`skip`): a wrong key was found by the first sync."""
    import subprocess

    from bench.reliability.freshbooks_stripe import Env, syncengine_exe

    with Env(tmp_path / "run") as env:
        def validate() -> subprocess.CompletedProcess[str]:
            return subprocess.run([syncengine_exe(), "validate", "--online", "-c", str(env.config)],
                                  capture_output=True, text=True, timeout=120, cwd=env.folder)

        good = validate()
        env.config.write_text(env.config.read_text().replace(env.st.api_key, "sk_test_not_a_key_we_gave"))
        bad = validate()
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok connector pay (Stripe): the API key is accepted (test mode)" in good.stdout, good.stdout
    assert bad.returncode == 2, bad.stdout + bad.stderr
    (line,) = _lines(bad.stderr)
    assert "connector pay (Stripe)" in line and "api_key" in line, line
