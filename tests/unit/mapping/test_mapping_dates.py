"""Dates and date-times: formats per side, IANA zones, DST edges, precision normalisation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncengine.mapping import RecordMappingError
from syncengine.mapping.dates import DateTimeTransform, DateTransform, SideFormat

NY = ZoneInfo("America/New_York")
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


def dt(left: str, right: str, left_tz: str | None = None, right_tz: str | None = None) -> DateTimeTransform:
    return DateTimeTransform(
        {
            "left": SideFormat(left, ZoneInfo(left_tz) if left_tz else None),
            "right": SideFormat(right, ZoneInfo(right_tz) if right_tz else None),
        }
    )


def test_local_pattern_to_unix() -> None:
    t = dt("%Y-%m-%d %H:%M:%S", "unix", left_tz="America/New_York")
    common = t.to_common("left", "2024-07-01 09:30:00")
    assert common == datetime(2024, 7, 1, 13, 30, tzinfo=UTC)
    assert t.from_common("right", common) == 1719840600
    assert t.to_common("right", 1719840600) == common
    assert t.to_common("right", "1719840600") == common
    assert t.from_common("left", common) == "2024-07-01 09:30:00"


def test_iso_and_native_sides() -> None:
    t = dt("iso", "native", right_tz="Europe/Paris")
    common = t.to_common("left", "2024-01-05T10:00:00Z")
    assert common == datetime(2024, 1, 5, 10, tzinfo=UTC)
    native = t.from_common("right", common)
    assert native == common and native.utcoffset() == timedelta(hours=1)
    assert t.from_common("left", common) == "2024-01-05T10:00:00+00:00"
    assert t.to_common("right", datetime(2024, 1, 5, 11, 0)) == common  # naive = in right_tz


def test_unix_ms() -> None:
    t = dt("unix_ms", "iso")
    common = t.to_common("left", 1700000000123)
    assert common == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert t.from_common("left", common) == 1700000000123


def test_common_precision_is_the_coarser_side() -> None:
    t = dt("iso", "unix")
    assert t.to_common("left", "2024-01-01T00:00:00.750+00:00") == datetime(2024, 1, 1, tzinfo=UTC)
    minutes = dt("iso", "%Y-%m-%d %H:%M")
    assert minutes.to_common("left", "2024-01-01T10:11:12+00:00") == datetime(2024, 1, 1, 10, 11, tzinfo=UTC)


def test_dst_spring_gap_reads_with_the_offset_before_the_change() -> None:
    t = dt("%Y-%m-%d %H:%M:%S", "iso", left_tz="America/New_York")
    # 02:30 does not exist on 2024-03-10 in New York; read as EST (-5)
    common = t.to_common("left", "2024-03-10 02:30:00")
    assert common == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    # writing it back gives the valid wall time, which projects to the same instant
    assert t.from_common("left", common) == "2024-03-10 03:30:00"
    assert t.to_common("left", "2024-03-10 03:30:00") == common


def test_dst_autumn_overlap_reads_the_first_occurrence() -> None:
    t = dt("%Y-%m-%d %H:%M:%S", "iso", left_tz="America/New_York")
    first = t.to_common("left", "2024-11-03 01:30:00")
    assert first == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # EDT
    second = datetime(2024, 11, 3, 6, 30, tzinfo=UTC)  # the same wall time in EST
    assert t.from_common("left", second) == "2024-11-03 01:30:00"
    # the naive format cannot tell the two apart: documented information loss, stable afterwards
    assert t.to_common("left", t.from_common("left", second)) == first


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(ZONES),
    st.sampled_from(["%Y-%m-%d %H:%M:%S", "iso", "native", "unix", "unix_ms"]),
)
def test_projection_is_idempotent_and_round_trips_when_unambiguous(
    moment: datetime, zone: str, fmt: str
) -> None:
    t = dt(fmt, "native", left_tz=zone)
    common = t.to_common("right", moment)
    written = t.from_common("left", common)
    again = t.to_common("left", written)
    # never a flip-flop: projecting what we wrote gives a value that projects to itself
    assert t.to_common("left", t.from_common("left", again)) == again
    local = common.astimezone(ZoneInfo(zone))
    ambiguous = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    if not ambiguous or fmt in ("iso", "native", "unix", "unix_ms"):
        assert again == common


def test_bad_values_fail_the_record() -> None:
    t = dt("%Y-%m-%d", "unix")
    with pytest.raises(RecordMappingError, match="not a date-time in the format"):
        t.to_common("left", "01/02/2024")
    with pytest.raises(RecordMappingError, match="not a number"):
        t.to_common("right", "soon")
    assert t.to_common("left", "") is None
    assert t.from_common("right", None) is None


def test_date_formats() -> None:
    d = DateTransform({"left": SideFormat("native", None), "right": SideFormat("%d/%m/%Y", None)})
    assert d.to_common("right", "03/02/2001") == date(2001, 2, 3)
    assert d.from_common("right", date(2001, 2, 3)) == "03/02/2001"
    assert d.to_common("left", "2001-02-03") == date(2001, 2, 3)
    assert d.to_common("left", datetime(2001, 2, 3, 23, 0)) == date(2001, 2, 3)
    unix = DateTransform({"left": SideFormat("iso", None), "right": SideFormat("unix", NY)})
    midnight_ny = int(datetime(2024, 1, 2, tzinfo=NY).timestamp())
    assert unix.from_common("right", date(2024, 1, 2)) == midnight_ny
    assert unix.to_common("right", midnight_ny) == date(2024, 1, 2)
    assert unix.from_common("left", date(2024, 1, 2)) == "2024-01-02"


@given(st.dates(min_value=date(1971, 1, 1), max_value=date(2100, 1, 1)), st.sampled_from(ZONES))
def test_date_round_trips_through_unix_midnight_in_any_zone(day: date, zone: str) -> None:
    d = DateTransform({"left": SideFormat("unix", ZoneInfo(zone)), "right": SideFormat("iso", None)})
    assert d.to_common("left", d.from_common("left", day)) == day
    assert d.to_common("right", d.from_common("right", day)) == day


@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%Y%m%dT%H%M%S", "%m.%d.%Y %H:%M", "%Y-%m-%d"]),
)
def test_fast_pattern_parser_agrees_with_strptime(moment: datetime, pattern: str) -> None:
    side = SideFormat(pattern, None)
    text = moment.strftime(pattern)
    assert side.strptime(text) == datetime.strptime(text, pattern)


@pytest.mark.parametrize("text", ["2024-02-30 00:00:00", "2024-1-5 1:2:3", "24-01-05 00:00:00", " 2024-01-05 00:00:00"])
def test_fast_pattern_parser_accepts_and_refuses_like_strptime(text: str) -> None:
    side = SideFormat("%Y-%m-%d %H:%M:%S", None)
    try:
        expected: datetime | None = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            side.strptime(text)
    else:
        assert side.strptime(text) == expected
