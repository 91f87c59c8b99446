"""The property the reconciler's echo suppression rests on: what we write projects back equal.

For any record of one side, rendering its common shape to the other side and projecting that
payload gives the same common values (for every field that flows that way). If this failed,
each sync would see a change in its own write and the pair would flip-flop forever.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from syncengine.mapping import load_mapping
from syncengine.records import Money
from tests.fixtures.mappings.helpers import FakeLinks
from tests.fixtures.mappings.specs import LEFT_SPECS, RIGHT_SPECS

GOOD = Path(__file__).parents[2] / "fixtures" / "mappings" / "good.yaml"
PAIR = load_mapping(GOOD, LEFT_SPECS, RIGHT_SPECS).pair("contacts")
LINKS = FakeLinks({"companies": {str(i): f"org_{i}" for i in range(20)}})

text = st.one_of(st.none(), st.text(max_size=12))
currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD", "CLP", "BHD"])
amounts = st.decimals(min_value=-(10**7), max_value=10**7, places=3, allow_nan=False, allow_infinity=False)

left_records = st.fixed_dictionaries(
    {
        "email": text,
        "first_name": text,
        "last_name": text,
        "country": st.sampled_from([None, "", "us", "Ca", "FR"]),
        "company_id": st.one_of(st.none(), st.integers(min_value=0, max_value=19)),
        "balance": st.one_of(st.none(), st.builds(Money, amounts, currencies)),
        "status": st.sampled_from([None, "1", "2", "3", "9", 2]),
        "birthday": st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1))),
        "updated_at": st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)).map(
            lambda d: d.strftime("%Y-%m-%d %H:%M:%S")
        ),
    }
)

right_records = st.fixed_dictionaries(
    {
        "email": text,
        "fname": text,
        "lname": text,
        "country_code": st.sampled_from([None, "us", "DE"]),
        "org_id": st.one_of(st.none(), st.integers(min_value=0, max_value=19).map(lambda i: f"org_{i}")),
        "balance_cents": st.one_of(st.none(), st.integers(min_value=-(10**12), max_value=10**12)),
        "currency": currencies,
        "state": st.sampled_from([None, "draft", "sent", "paid"]),
        "birth_date": st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1)).map(lambda d: d.strftime("%d/%m/%Y"))),
        "modified": st.datetimes(timezones=st.just(UTC), min_value=datetime(1971, 1, 1)).map(
            lambda d: d.isoformat()
        ),
    }
)


def _flowing(side: str) -> list[str]:
    return [f.name for f in PAIR.fields if f.flows_to(side)]  # type: ignore[arg-type]


@settings(max_examples=150)
@given(left_records)
def test_left_records_written_right_project_back_equal(record: dict[str, Any]) -> None:
    common = PAIR.project("left", record, LINKS)
    names = _flowing("right")
    payload = PAIR.render("right", common, names, LINKS)
    again = PAIR.project("right", payload, LINKS)
    assert {n: again[n] for n in names} == {n: common[n] for n in names}


@settings(max_examples=150)
@given(right_records)
def test_right_records_written_left_project_back_equal(record: dict[str, Any]) -> None:
    common = PAIR.project("right", record, LINKS)
    names = _flowing("left")
    payload = PAIR.render("left", common, names, LINKS)
    again = PAIR.project("left", payload, LINKS)
    assert {n: again[n] for n in names} == {n: common[n] for n in names}
    if common["balance"] is not None:
        assert isinstance(common["balance"].amount, Decimal)
