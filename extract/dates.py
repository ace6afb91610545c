"""Find dates in text and normalize them at the precision the text gives.

Spans are found with patterns first and each span is then parsed alone with
dateparser (``search_dates`` over whole sentences finds false dates such as the
verb "may"). A missing day or month is never filled in: "in 2010" is a
``xsd:gYear``, "in March 1992" a ``xsd:gYearMonth``, "on 16 December 1991" a
``xsd:date``.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import dateparser

Precision = Literal["year", "month", "day"]

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
# A year glued to a word by a hyphen ("EXPO-2017") or to other digits is a name, not a date.
_YEAR_EDGE_BEFORE = r"(?<![\w\-/.,])"
_YEAR_EDGE_AFTER = r"(?![\w%])"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # "8-9 July 2016", "July 8-9, 2016": a meeting over several days.
    (
        "dayrange",
        re.compile(
            rf"\b(?P<d>{_DAY})\s*[-–]\s*(?P<d2>{_DAY})\s+(?P<m>{_MONTH}),?\s+(?P<y>{_YEAR})\b"
            rf"|\b(?P<m_>{_MONTH})\s+(?P<d_>{_DAY})\s*[-–]\s*(?P<d2_>{_DAY}),?\s+(?P<y_>{_YEAR})\b"
        ),
    ),
    # "from 1995 to 1999", "between 2010 and 2012"
    (
        "span",
        re.compile(
            rf"\b(?:from|between)\s+(?P<y>{_YEAR})\s+(?:to|until|and|till)\s+(?P<y2>{_YEAR})\b"
        ),
    ),
    ("iso", re.compile(rf"\b(?P<y>{_YEAR})-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")),
    ("dmy", re.compile(rf"\b(?P<d>{_DAY})\s+(?:of\s+)?(?P<m>{_MONTH}),?\s+(?P<y>{_YEAR})\b")),
    ("mdy", re.compile(rf"\b(?P<m>{_MONTH})\s+(?P<d>{_DAY}),?\s+(?P<y>{_YEAR})\b")),
    ("my", re.compile(rf"\b(?P<m>{_MONTH})\s+(?:of\s+)?(?P<y>{_YEAR})\b")),
    (
        "range",
        re.compile(
            rf"{_YEAR_EDGE_BEFORE}(?P<y>{_YEAR})\s*[-–—/]\s*(?P<y2>{_YEAR}|\d\d){_YEAR_EDGE_AFTER}"
        ),
    ),
    ("y", re.compile(rf"{_YEAR_EDGE_BEFORE}(?P<y>{_YEAR}){_YEAR_EDGE_AFTER}")),
]

_XSD = "http://www.w3.org/2001/XMLSchema#"
DATATYPES: dict[Precision, str] = {
    "year": _XSD + "gYear",
    "month": _XSD + "gYearMonth",
    "day": _XSD + "date",
}


@dataclass(frozen=True)
class Date:
    """A calendar value at a precision: '2010', '1992-03' or '1991-12-16'."""

    value: str
    precision: Precision

    @property
    def datatype(self) -> str:
        return DATATYPES[self.precision]


@dataclass(frozen=True)
class DateSpan:
    """A date (or a year range) found in text, with character offsets."""

    begin: int
    end: int
    start: Date
    end_date: Date | None = None


@lru_cache(maxsize=4096)
def parse_date(text: str) -> Date | None:
    """Parse one date expression at the precision it is written with."""
    settings = {"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["year"]}
    data = dateparser.date.DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    d, period = data.date_obj, data.period
    if period == "year":
        return Date(f"{d.year:04d}", "year")
    if period == "month":
        return Date(f"{d.year:04d}-{d.month:02d}", "month")
    return Date(f"{d.year:04d}-{d.month:02d}-{d.day:02d}", "day")


def _range_end(start: str, end: str) -> str:
    """'2017', '18' -> '2018'."""
    return start[: 4 - len(end)] + end if len(end) < 4 else end


#: Every pattern above matches a year: the patterns only need to run around the years.
_YEARS = re.compile(_YEAR)
#: A match holds at most 20 non-space characters before its (first) year: two days, a
#: dash, a month with its dot, and a comma.
_BEFORE = re.compile(r"(?:\s*\S){0,20}")
#: ... and at most 9 after it (" until 1999"): 12 after the end of the year found in its
#: place, which may begin up to three digits earlier (in "192019" the years found are
#: "1920", not "2019"); then the window goes on to the end of a word.
_AFTER = re.compile(r"(?:\s*\S){0,12}\S*")


def _windows(text: str) -> list[tuple[int, int]]:
    """Disjoint stretches of ``text`` that hold every match of every pattern.

    Spaces do not count towards the reach (the patterns allow any number). Each stretch
    ends before a space or at the end of the text, so that a pattern searched with
    ``endpos`` there finds what it finds in the whole text: a word boundary and the
    lookahead take a space and the end alike, and ``pos`` leaves the text before it in
    view of word boundaries and lookbehinds.
    """
    windows: list[tuple[int, int]] = []
    backwards = ""
    for m in _YEARS.finditer(text):
        if not backwards:
            backwards = text[::-1]  # to walk left with a forward match
        begin = m.start() - _reach(_BEFORE, backwards, len(text) - m.start())
        end = m.end() + _reach(_AFTER, text, m.end())
        if windows and begin <= windows[-1][1]:
            last = windows[-1]
            windows[-1] = (min(begin, last[0]), max(end, last[1]))
        else:
            windows.append((begin, end))
    return windows


def _reach(walk: re.Pattern[str], text: str, pos: int) -> int:
    """How many characters ``walk`` goes over from ``pos`` on."""
    m = walk.match(text, pos)
    return m.end() - pos if m else 0


def find_dates(text: str) -> list[DateSpan]:
    """All date expressions in ``text``, longest match first, without overlaps."""
    # The spans kept so far, disjoint and in text order: their ends are in order too.
    begins: list[int] = []
    ends: list[int] = []
    found: list[DateSpan] = []
    # Each pattern takes a tenth of a millisecond over a 5 KB article; finding its years
    # takes a fifth of that, and the text around them is a small part of it.
    windows = _windows(text)
    for kind, pattern in _PATTERNS:
        for m in _finditer(pattern, text, windows):
            b, e = m.span()
            # Only the last span kept that begins before ``e`` may reach past ``b``.
            k = bisect.bisect_left(begins, e)
            if k and ends[k - 1] > b:
                continue
            span = _to_span(kind, m)
            if span is not None:
                begins.insert(k, b)
                ends.insert(k, e)
                found.append(span)
    return sorted(found, key=lambda s: s.begin)


def _finditer(
    pattern: re.Pattern[str], text: str, windows: list[tuple[int, int]]
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, searching only the windows."""
    for begin, end in windows:
        yield from pattern.finditer(text, begin, end)


def _to_span(kind: str, m: re.Match[str]) -> DateSpan | None:
    b, e = m.span()
    if kind == "range":
        y1, y2 = m["y"], _range_end(m["y"], m["y2"])
        if not (0 < int(y2) - int(y1) <= 10):
            return None
        return DateSpan(b, e, Date(y1, "year"), Date(y2, "year"))
    if kind == "dayrange":
        d1, d2 = m["d"] or m["d_"], m["d2"] or m["d2_"]
        month, year = m["m"] or m["m_"], m["y"] or m["y_"]
        first, last = _ymd(year, month, d1), _ymd(year, month, d2)
        if first is None or last is None:
            return None
        return DateSpan(b, e, first, last)
    if kind == "span":
        if not (0 < int(m["y2"]) - int(m["y"]) <= 50):
            return None
        return DateSpan(b, e, Date(m["y"], "year"), Date(m["y2"], "year"))
    if kind == "y":
        return DateSpan(b, e, Date(m["y"], "year"))
    # The patterns have already isolated year, month and day: build the date from them
    # (a thousand times faster than dateparser) and keep dateparser for anything else.
    date = _from_groups(m) or parse_date(m.group(0))
    if date is None:
        return None
    return DateSpan(b, e, date)


_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def _month(text: str) -> int | None:
    return _MONTHS.get(text.lower().rstrip("."))


def _ymd(year: str, month: str, day: str | None) -> Date | None:
    """A calendar date from the parts a pattern matched; None if it does not exist."""
    number = int(month) if month.isdigit() else _month(month)
    if number is None or not 1 <= number <= 12:
        return None
    if day is None:
        return Date(f"{int(year):04d}-{number:02d}", "month")
    try:
        d = datetime.date(int(year), number, int(re.sub(r"\D", "", day)))
    except ValueError:
        return None
    return Date(d.isoformat(), "day")


def _from_groups(m: re.Match[str]) -> Date | None:
    groups = m.groupdict()
    if groups.get("y") and groups.get("m"):
        return _ymd(groups["y"], groups["m"], groups.get("d"))
    return None
