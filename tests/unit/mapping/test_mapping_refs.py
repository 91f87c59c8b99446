"""``ref``: foreign keys through a pair's links; unresolvable keys are retryable record errors."""

from __future__ import annotations

import pytest

from syncengine.mapping import RecordMappingError, UnresolvedRef
from syncengine.mapping.refs import RefTransform
from tests.fixtures.mappings.helpers import FakeLinks


def test_left_keys_pass_through_as_text(links: FakeLinks) -> None:
    ref = RefTransform("companies")
    assert ref.to_common("left", 7, {}, links) == "7"
    assert ref.from_common("left", "7", {}, links) == "7"
    assert ref.to_common("left", None, {}, links) is None


def test_right_keys_translate_through_the_links(links: FakeLinks) -> None:
    ref = RefTransform("companies")
    assert ref.to_common("right", "org_7", {}, links) == "7"
    assert ref.from_common("right", "7", {}, links) == "org_7"
    assert ref.refs() == {"companies"}


def test_unresolved_ref_names_pair_and_key(links: FakeLinks) -> None:
    ref = RefTransform("companies")
    with pytest.raises(UnresolvedRef) as caught:
        ref.to_common("right", "org_9", {}, links)
    assert caught.value.ref_pair == "companies" and caught.value.key == "org_9"
    assert isinstance(caught.value, RecordMappingError)
    assert "companies" in str(caught.value) and "org_9" in str(caught.value)
    with pytest.raises(UnresolvedRef, match="left key '8'"):
        ref.from_common("right", "8", {}, links)
