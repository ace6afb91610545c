"""One identifier per real-world entity, whatever name the text uses."""

import pytest

from extract.gazetteer import load


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (
            [
                "Organization of the Islamic Conference",
                "Organisation of Islamic Cooperation",
                "Organization of Islamic Cooperation",
                "OIC",
            ],
            "organization:oic",
        ),
        (
            [
                "Organization for Security and Co-operation in Europe",
                "Organization for Security and Cooperation in Europe",
                "OSCE",
            ],
            "organization:osce",
        ),
        (["Russia", "Russian Federation"], "country:rus"),
        (["the United States", "United States of America", "USA"], "country:usa"),
        (["South Korea", "Republic of Korea"], "country:kor"),
        (["Soviet Union", "USSR"], "country:sun"),
        (["Astana", "Nur-Sultan", "Akmola"], "city:1526273"),
        (["Almaty", "Alma-Ata"], "city:1526384"),
        (["UN Security Council", "UNSC", "United Nations Security Council"], "organization:unsc"),
    ],
)
def test_names_resolve_to_one_entity(names: list[str], key: str) -> None:
    gaz = load()
    assert {gaz.resolve(n).key for n in names} == {key}


def test_distinct_organizations_stay_distinct() -> None:
    gaz = load()
    assert (
        gaz.resolve("Eurasian Economic Union").key != gaz.resolve("Eurasian Economic Community").key
    )


def test_identifiers_come_from_the_packages() -> None:
    gaz = load()
    kaz = gaz.entities["country:kaz"]
    assert kaz.notation == "KAZ" and kaz.geonames == 1522867
    assert gaz.entities["city:1526273"].country == "kaz"
    assert gaz.entities["organization:unsc"].parent == "un"


def test_coverage() -> None:
    gaz = load()
    kinds = [e.kind for e in gaz.entities.values()]
    assert kinds.count("organization") + kinds.count("body") >= 150
    assert kinds.count("country") >= 249


def test_demonyms_and_capitals() -> None:
    gaz = load()
    assert gaz.demonyms["Kazakh"] == "country:kaz"
    assert gaz.capitals["country:kaz"] == "city:1526273"
