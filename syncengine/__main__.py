"""`python -m syncengine`: the CLI without the console-script shim (benchmarks, subprocesses)."""

from syncengine.cli import main

if __name__ == "__main__":
    main()
