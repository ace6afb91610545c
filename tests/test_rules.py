"""Each extraction pattern on varied sentences of our own: voice, lists, roles, dates."""

from __future__ import annotations

import pytest

from extract.pipeline import extract


def facts(article, text: str) -> set[tuple]:
    """(member, organization, role, start, end) for every membership extracted."""
    return {
        (m.member, m.organization, m.role, m.start and m.start.value, m.end and m.end.value)
        for m in extract(article(text)).memberships
    }


def events(article, text: str) -> list[tuple]:
    return [
        (e.type, e.start and e.start.value, e.location, tuple(e.concerns))
        for e in extract(article(text)).events
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Chile joined the OECD in May 2010.",
            {("country:chl", "organization:oecd", "member", "2010-05", None)},
        ),
        (
            "In 2013 Croatia became the 28th member of the European Union.",
            {("country:hrv", "organization:eu", "member", "2013", None)},
        ),
        (
            "Montenegro was admitted to NATO on 5 June 2017.",
            {("country:mne", "organization:nato", "member", "2017-06-05", None)},
        ),
        (
            "NATO admitted Albania and Croatia in April 2009.",
            {
                ("country:alb", "organization:nato", "member", "2009-04", None),
                ("country:hrv", "organization:nato", "member", "2009-04", None),
            },
        ),
        (
            "Latvia, Lithuania and Estonia joined the European Union and NATO in 2004.",
            {
                (c, o, "member", "2004", None)
                for c in ("country:lva", "country:ltu", "country:est")
                for o in ("organization:eu", "organization:nato")
            },
        ),
        (
            "Armenia has been a member of the Collective Security Treaty Organization since 1994.",
            {("country:arm", "organization:csto", "member", "1994", None)},
        ),
        (
            "Kazakhstan, a member of the Shanghai Cooperation Organisation, hosted the summit.",
            {("country:kaz", "organization:sco", "member", None, None)},
        ),
        (
            "Portugal is a founding member of NATO.",
            {("country:prt", "organization:nato", "founding-member", None, None)},
        ),
        (
            "Brazil, Russia, India and China founded BRIC in 2009.",
            {
                (c, "organization:brics", "founding-member", "2009", None)
                for c in ("country:bra", "country:rus", "country:ind", "country:chn")
            },
        ),
        (
            "The OSCE was chaired by Finland in 2008.",
            {("country:fin", "organization:osce", "chair", "2008", None)},
        ),
        (
            "Germany assumed the rotating presidency of the Council of the European Union "
            "in July 2020.",
            {("country:deu", "organization:council-of-the-eu", "chair", "2020-07", None)},
        ),
        (
            "Japan was elected a non-permanent member of the UN Security Council for 2023-2024.",
            {("country:jpn", "organization:unsc", "non-permanent-member", "2023", "2024")},
        ),
        (
            "Mongolia has observer status in the Shanghai Cooperation Organization.",
            {("country:mng", "organization:sco", "observer", None, None)},
        ),
        (
            "Turkey became a dialogue partner of the SCO in 2013.",
            {("country:tur", "organization:sco", "dialogue-partner", "2013", None)},
        ),
        (
            "Ukraine acceded to the Treaty on the Non-Proliferation of Nuclear Weapons in 1994.",
            {("country:ukr", "organization:npt", "party", "1994", None)},
        ),
        (
            "Qatar left OPEC on 1 January 2019.",
            {("country:qat", "organization:opec", "member", None, "2019-01-01")},
        ),
        (
            "Finland joined NATO in April 2023, and Sweden followed in March 2024.",
            {
                ("country:fin", "organization:nato", "member", "2023-04", None),
                ("country:swe", "organization:nato", "member", "2024-03", None),
            },
        ),
    ],
)
def test_memberships(article, text: str, expected: set[tuple]) -> None:
    # Exactly what the sentence states: nothing missing, nothing more.
    assert facts(article, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Serbia is expected to join the European Union by 2030.",
        "Ukraine may become a member of NATO one day.",
        "Norway did not join the European Union.",
        "Switzerland has never been a member of the EU.",
        "Georgia applied to join NATO in 2008.",
        "Bosnia hopes to join the EU.",
        "If Iceland joined the EU, its fisheries would change.",
        "Moldova plans to join the European Union.",
        "The government denied that Belarus had joined the WTO.",
        "Kosovo is not a member of the United Nations.",
        "Turkey refused to leave NATO.",
        "Astana is a modern city with wide avenues and new towers.",
    ],
)
def test_hypothetical_and_denied_yield_nothing(article, text: str) -> None:
    assert facts(article, text) == set()


def test_anaphor_resolves_to_the_article_country(article) -> None:
    text = (
        "Kazakhstan has pursued a multi-vector policy.\n\n"
        "Kazakhstan built ties with its neighbours.\n\n"
        "In 2015 the country joined the World Trade Organization."
    )
    assert ("country:kaz", "organization:wto", "member", "2015", None) in facts(article, text)


def test_a_city_stays_a_city(article) -> None:
    found = events(article, "Almaty hosted the first CICA summit in June 2002.")
    assert found == [("Summit", "2002-06", "city:1526384", ("organization:cica",))]


@pytest.mark.parametrize(
    ("text", "kind", "date"),
    [
        ("The G20 summit was held in Osaka on 28-29 June 2019.", "Summit", "2019-06-28"),
        (
            "Poland and Germany signed the Treaty of Good Neighbourship in 1991.",
            "TreatySigning",
            "1991",
        ),
        (
            "The Organisation of African Unity was founded in Addis Ababa in May 1963.",
            "Founding",
            "1963-05",
        ),
        ("Expo 2010 took place in Shanghai.", "Exhibition", "2010"),
        ("Ghana gained independence on 6 March 1957.", "Independence", "1957-03-06"),
        ("In 1997 Kazakhstan moved its capital to Akmola.", "CapitalRelocation", "1997"),
        ("The President proposed in 2014 to establish a new regional forum.", None, None),
    ],
)
def test_events(article, text: str, kind: str | None, date: str | None) -> None:
    found = events(article, text)
    if kind is None:
        assert found == []
    else:
        assert (kind, date) in {(k, d) for k, d, _, _ in found}


def test_page_junk_yields_nothing(article) -> None:
    junk = "Share this post\n\nscroll to top\n\nHome | World | Asia\n\nSubscribe to our newsletter"
    result = extract(article(junk))
    assert result.memberships == [] and result.events == []
