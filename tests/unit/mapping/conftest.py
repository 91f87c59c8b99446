"""Fixtures of the mapping tests."""

from __future__ import annotations

import pytest

from tests.fixtures.mappings.helpers import FakeLinks


@pytest.fixture
def links() -> FakeLinks:
    """Company 7 on the left is org_7 on the right."""
    return FakeLinks({"companies": {"7": "org_7"}})
