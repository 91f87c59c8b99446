"""``python -m connectors.freshbooks.sandbox --port N --seed N --state FILE``."""

from __future__ import annotations

import argparse

from .server import CLI_REDIRECT_URI, run_sandbox
from .variants import parse_assignments


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.freshbooks.sandbox",
                                     description="Run the local FreshBooks API emulator on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=1000, help="size of the generated data (clients)")
    parser.add_argument("--state", default=None, help="state file: loaded at start, saved at exit")
    parser.add_argument("--token-ttl", type=int, default=43200, help="access token lifetime, seconds")
    parser.add_argument("--requests-per-minute", type=int, default=None, help="per-token budget")
    parser.add_argument("--variant", action="append", default=[], help="NAME=VALUE for an open behaviour")
    parser.add_argument("--redirect-uri", default=CLI_REDIRECT_URI, help="the redirect URI the app registers")
    parser.add_argument("--size", default=None, help="a data set of exact counts instead of --seed: business")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink --size by this factor")
    parser.add_argument("--second-business", action="store_true", help="the login sees a second business")
    args = parser.parse_args(argv)
    try:
        variants = parse_assignments(args.variant)
    except ValueError as exc:
        parser.error(f"--variant {exc}")  # one line, exit 2
    run_sandbox(port=args.port, seed=args.seed, state_file=args.state, token_ttl=args.token_ttl,
                requests_per_minute=args.requests_per_minute, variants=variants, redirect_uri=args.redirect_uri,
                size=args.size, scale=args.scale, second_business=args.second_business)


if __name__ == "__main__":
    main()
