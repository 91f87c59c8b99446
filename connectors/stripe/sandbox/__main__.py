"""``python -m connectors.stripe.sandbox [--port N] [--seed N] [--state FILE]``."""

from __future__ import annotations

import argparse

from .server import run_sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.stripe.sandbox",
                                     description="Run the local Stripe API emulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--seed", type=int, default=20, help="size of the generated data (customers)")
    parser.add_argument("--state", default=None, help="state file: loaded at start, saved while running and at exit")
    parser.add_argument("--rng-seed", type=int, default=1, help="seeds every random choice, the API key included")
    parser.add_argument("--requests-per-minute", type=int, default=None, help="request budget per API key")
    args = parser.parse_args(argv)
    run_sandbox(port=args.port, seed=args.seed, state_file=args.state, rng_seed=args.rng_seed,
                requests_per_minute=args.requests_per_minute)


if __name__ == "__main__":
    main()
