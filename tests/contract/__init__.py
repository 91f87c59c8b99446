"""The connector contract: one conformance suite every connector passes (see subjects.py)."""
