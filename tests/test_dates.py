"""Dates are normalized at the precision the text gives, never guessed."""

import pytest

from extract.dates import find_dates


@pytest.mark.parametrize(
    ("text", "start", "datatype", "end"),
    [
        ("in 2010", "2010", "gYear", None),
        ("in March 1992", "1992-03", "gYearMonth", None),
        ("on December 16, 1991", "1991-12-16", "date", None),
        ("on 16 December 1991", "1991-12-16", "date", None),
        ("for 2017-2018", "2017", "gYear", "2018"),
        ("from 1995 to 1999", "1995", "gYear", "1999"),
        ("on 8-9 July 2016", "2016-07-08", "date", "2016-07-09"),
        ("on July 8-9, 2016", "2016-07-08", "date", "2016-07-09"),
    ],
)
def test_precision_is_kept(text: str, start: str, datatype: str, end: str | None) -> None:
    (span,) = find_dates(text)
    assert span.start.value == start
    assert span.start.datatype.endswith("#" + datatype)
    assert (span.end_date.value if span.end_date else None) == end
    assert text[span.begin : span.end].strip()


@pytest.mark.parametrize(
    "text",
    ["EXPO-2017 was a success", "the Sanctions Committee 1267", "they may join", "no date here"],
)
def test_no_false_dates(text: str) -> None:
    assert find_dates(text) == []
