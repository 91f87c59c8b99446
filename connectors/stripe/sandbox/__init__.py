"""A stateful local emulator of the Stripe API, faithful enough for the official ``stripe`` library.

See README.md in this directory for what it covers, and which behaviours rest on Stripe's
documentation and which are the sandbox's guesses.
"""

from .server import SandboxServer, run_sandbox
from .webhooks import SIGNATURE_HEADER, signature

__all__ = ["SIGNATURE_HEADER", "SandboxServer", "run_sandbox", "signature"]
