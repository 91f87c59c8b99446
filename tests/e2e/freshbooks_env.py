"""A copy of examples/freshbooks-sqldb.yaml pointed at a running sandbox, run through the real command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from connectors.freshbooks.sandbox import SandboxServer
from syncengine.ledger import Ledger

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "freshbooks-sqldb.yaml"


def environment(sb: SandboxServer, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCENGINE_", "FRESHBOOKS_"))}
    env.update({"FRESHBOOKS_API_URL": sb.url, "FRESHBOOKS_CLIENT_ID": sb.client_id,
                "FRESHBOOKS_CLIENT_SECRET": sb.client_secret, "FRESHBOOKS_REDIRECT_URI": sb.redirect_uri,
                "SYNCENGINE_SECRET_KEY_FILE": str(folder / "secret.key")})
    return env


def example_config(folder: Path, business_id: int | None = None) -> Path:
    """The example, copied into ``folder`` (its ledger and database land there), with a business_id."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yaml"
    shutil.copyfile(EXAMPLE, config)
    if business_id is not None:
        text = config.read_text(encoding="utf-8")
        text = text.replace("    # business_id: 123456", f"    business_id: {business_id}", 1)
        assert f"business_id: {business_id}" in text
        config.write_text(text, encoding="utf-8")
    return config


def store_token(folder: Path, env: dict[str, str], token: dict[str, Any]) -> None:
    """Save a token pair in the example's ledger, as `syncengine auth freshbooks` would."""
    names = ("SYNCENGINE_SECRET_KEY", "SYNCENGINE_SECRET_KEY_FILE")
    saved = {k: os.environ.pop(k, None) for k in names}
    os.environ["SYNCENGINE_SECRET_KEY_FILE"] = env["SYNCENGINE_SECRET_KEY_FILE"]
    try:
        with Ledger.open(f"sqlite:///{folder / 'freshbooks-ledger.db'}") as ledger, \
                ledger.token_lock("freshbooks") as slot:
            slot.save(token)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v


def syncengine(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncengine", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
