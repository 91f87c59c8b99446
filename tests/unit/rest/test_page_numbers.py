"""Page numbers as addressable pages: any page's parameters, and the envelope's counts, so a
connector can read pages ahead and tell a short listing from a complete one."""

from __future__ import annotations

from syncengine.rest import PageNumbers, Select

ENVELOPE = PageNumbers(pages=Select("response.result.pages"), total=Select("response.result.total"))


def test_any_page_is_addressable_and_the_first_is_first_page() -> None:
    paging = PageNumbers(page_param="p", size_param="n", first_page=0)
    assert paging.first(25) == [("p", "0"), ("n", "25")]
    assert paging.page(7, 25) == [("p", "7"), ("n", "25")]


def test_counts_come_from_the_envelope() -> None:
    body = {"response": {"result": {"clients": [], "pages": 4, "total": 310}}}
    assert ENVELOPE.page_count(body) == 4
    assert ENVELOPE.record_count(body) == 310


def test_counts_written_as_digits_are_read_and_anything_else_is_none() -> None:
    assert ENVELOPE.page_count({"response": {"result": {"pages": "3", "total": "12"}}}) == 3
    assert ENVELOPE.record_count({"response": {"result": {"pages": "3", "total": "12"}}}) == 12
    for odd in (None, "many", True, [], {"n": 1}):
        body = {"response": {"result": {"pages": odd, "total": odd}}}
        assert ENVELOPE.page_count(body) is None
        assert ENVELOPE.record_count(body) is None
    assert ENVELOPE.page_count("not an object") is None


def test_following_stops_at_the_page_count() -> None:
    rows = [{"id": 1}]
    body = {"response": {"result": {"pages": 2}}}
    assert ENVELOPE.following(body, rows, ENVELOPE.page(1, 1), 1) == [("page", "2"), ("per_page", "1")]
    assert ENVELOPE.following(body, rows, ENVELOPE.page(2, 1), 1) is None
    assert ENVELOPE.following(body, [], ENVELOPE.page(1, 1), 1) is None
