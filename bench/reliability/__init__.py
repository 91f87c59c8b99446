"""kill -9 reliability harness: `make bench-reliability`, or `python -m bench.reliability -h`.

The trial code is shared with tests/integration/reconcile/test_kill9.py.
"""
