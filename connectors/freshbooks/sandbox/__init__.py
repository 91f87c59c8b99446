"""A stateful local emulator of the FreshBooks REST API, faithful enough for the official SDK.

See README.md in this directory for what it covers and the choices made where FreshBooks'
behaviour is not documented.
"""

from .server import SandboxServer, run_sandbox
from .webhooks import SIGNATURE_HEADER, signature

__all__ = ["SIGNATURE_HEADER", "SandboxServer", "run_sandbox", "signature"]
