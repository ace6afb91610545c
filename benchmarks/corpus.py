"""A deterministic corpus of news-like articles for benchmarks.

Each article is about 5 KB of English (5,120 bytes ± 10%) written from our own
templates: paragraphs mixing filler sentences about diplomacy with sentences that state
facts the extractor looks for (joining, membership, chairing, elections, founding,
summits, signing, withdrawal), plus hedged or denied statements that it must skip. Names
of countries, organizations, treaties and cities are real ones from the gazetteer.

    for name, text in generate(1000):            # in memory
        ...
    write_corpus(10_000, "benchmarks/out/corpus")  # as .txt files

The same ``seed`` gives the same articles, and ``generate(1000)`` is the first thousand
articles of ``generate(10_000)``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Formatter

#: Bytes of an article: 5 KiB on average, within ±10%.
TARGET_BYTES = 5120
#: The article grows until it passes a length drawn from this range; one sentence more
#: at most (< 300 bytes) keeps it under ``TARGET_BYTES * 1.1``.
GROW_TO = (4760, 5430)

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

#: Sentences without trigger words: the prose around the facts.
FILLER = [
    "Diplomats in {city} described the talks as frank but constructive.",
    "The foreign ministry of {country} issued a short statement after the talks.",
    "Trade between {country} and {country2} has doubled over the past decade.",
    "Officials from {country} travelled to {city} for two days of consultations.",
    "Analysts note that the region still lacks a common approach to water and energy.",
    "The two delegations discussed transport corridors, customs rules and visa regimes.",
    "Much of the agenda concerned the price of grain and the security of pipelines.",
    "Observers in {city} said the mood was calmer than at any time in recent years.",
    "{country} and {country2} share a long border and a complicated history.",
    "Diplomacy, one veteran envoy likes to say, is the art of letting others have your way.",
    "The visit was prepared for months by small teams of experts on both sides.",
    "Critics argue that such declarations change little on the ground.",
    "Several ministers stressed the importance of predictable rules for investors.",
    "The press conference in {city} lasted less than half an hour.",
    "A joint communiqué spoke of mutual respect, non-interference and shared prosperity.",
    "Negotiators from {country2} insisted on a clause about dispute settlement.",
    "Local newspapers in {country} gave the story only a few lines on an inner page.",
    "{org} has long struggled to reconcile the interests of large and small states.",
    "Behind closed doors, the discussion turned to sanctions and their side effects.",
    "Business groups in {city} followed the negotiations closely.",
    "The ministry in {city} declined to comment on the details of the draft text.",
    "Climate finance and debt relief were raised by the smaller delegations.",
    "Historians point out that alliances in the region have rarely lasted long.",
    "Railway links between {country} and {country2} are due for modernization.",
    "The dispute over fishing rights in the area has simmered for years.",
    "Farmers' unions in {country} staged a protest outside the conference hall.",
    "A senior adviser called the outcome a modest step in the right direction.",
    "Energy prices dominated the conversation over lunch, according to one participant.",
    "{org} published a report on regional trade barriers later that week.",
    "Both governments want to avoid the impression that anything was conceded.",
    "Students at the university in {city} held a debate on neutrality and alignment.",
    "The opposition in {country2} accused the government of acting without consultation.",
    "Questions about human rights were raised but not pursued in public.",
    "The delegation from {country} arrived a day late because of bad weather.",
    "Experts expect the debate on tariffs to continue well into the next decade.",
    "Interpreters worked through the night to finish the final version of the text.",
    "A small exhibition on the history of diplomacy opened in {city} the same week.",
    "Relations between {country} and {country2} cooled after a row over airspace.",
    "The talks covered migration, border management and the return of cultural property.",
    "Commentators in {city} were sceptical about the pace of change.",
]

#: Sentences that state a fact the extractor should find.
FACTS = [
    "{country} joined {org} {date}.",
    "{country} became a member of {org} {date}.",
    "{Date_}, {country} joined {org} after years of preparation.",
    "{country} was admitted to {org} {date}.",
    "{country} chaired {org} {date}.",
    "{Date_}, {country} held the chairmanship of {org}.",
    "{country} was elected to {body} {date}.",
    "{country} was elected to {body} for a term running from {year} to {year2}.",
    "{country} served on {body} from {year} to {year2}.",
    "{org} was founded {date} by {country}, {country2} and {country3}.",
    "{country}, {country2} and {country3} founded {org} {date}.",
    "Leaders gathered for a summit in {city} {date}.",
    "The summit of {org} took place in {city} {date}.",
    "{country} hosted a conference on regional security in {city} {date}.",
    "{country} signed {treaty} {date}.",
    "{country} and {country2} signed {treaty} in {city} {date}.",
    "{country} ratified {treaty} {date}.",
    "{country} withdrew from {org} {date}.",
    "{Date_}, {country} left {org}.",
    "{country} has been an observer at {org} since {year}.",
]

#: Anticipated, hoped-for or denied statements: nothing should be extracted.
HEDGED = [
    "{country} is expected to join {org} next year.",
    "{country} may become a member of {org} before the end of the decade.",
    "{country} did not join {org}.",
    "{country} hopes to chair {org} in the coming years.",
    "Officials said {country} could sign {treaty} soon.",
    "{country} is planning to withdraw from {org}, according to local media.",
    "{country} has never been a member of {org}.",
]

TITLES = [
    "{country} and {org}: a year of quiet diplomacy",
    "How {country} rebuilt its ties with {country2}",
    "From {city} to the world: the diplomacy of {country}",
    "{country} between blocs",
    "What the talks in {city} mean for {country}",
    "A short history of {country} in {org}",
]


@dataclass(frozen=True)
class Names:
    """Real names from the gazetteer that the templates fill in."""

    countries: list[str]
    cities: list[str]
    organizations: list[str]
    bodies: list[str]
    treaties: list[str]


@cache
def names() -> Names:
    """Countries with a capital, those capitals, organizations, bodies and treaties."""
    from extract.gazetteer import load

    gaz = load()
    capitals = gaz.capitals
    ents = gaz.entities

    def short(kind: str, limit: int = 60) -> list[str]:
        found = {e.name for e in ents.values() if e.kind == kind and len(e.name) <= limit}
        return sorted(found)

    countries = sorted({ents[k].name for k in capitals if k in ents and "," not in ents[k].name})
    cities = sorted({ents[c].name for c in capitals.values() if c in ents})
    return Names(countries, cities, short("organization"), short("body"), short("treaty"))


def _with_article(name: str) -> str:
    """'the World Bank', but 'BRICS' and 'OPEC+' stay bare."""
    bare = name.replace("+", "").replace("-", "").replace(" ", "")
    return name if bare.isupper() else f"the {name}"


def _date(rng: random.Random) -> tuple[str, int]:
    """A date phrase as news writes it ('on 12 March 2004', 'in 2004') and its year."""
    year = rng.randint(1950, 2024)
    month = rng.choice(MONTHS)
    day = rng.randint(1, 28)
    phrase = rng.choice(
        [
            f"on {day} {month} {year}",
            f"on {month} {day}, {year}",
            f"in {month} {year}",
            f"in {year}",
        ]
    )
    return phrase, year


@cache
def _slots(template: str) -> frozenset[str]:
    """The names of the slots a template uses."""
    return frozenset(field for _, field, _, _ in Formatter().parse(template) if field)


def _fill(template: str, rng: random.Random, pool: Names) -> str:
    """One template with its slots filled by random names and dates."""
    slots = _slots(template)
    values: dict[str, str] = {}
    if slots & {"country", "country2", "country3"}:
        values["country"], values["country2"], values["country3"] = rng.sample(pool.countries, 3)
    if "city" in slots:
        values["city"] = rng.choice(pool.cities)
    for slot, choices in (
        ("org", pool.organizations),
        ("body", pool.bodies),
        ("treaty", pool.treaties),
    ):
        if slot in slots:
            values[slot] = _with_article(rng.choice(choices))
    if slots & {"date", "Date_", "year", "year2"}:
        date, year = _date(rng)
        values["date"], values["Date_"] = date, date[0].upper() + date[1:]
        values["year"], values["year2"] = str(year), str(min(year + rng.randint(1, 4), 2025))
    text = template.format(**values)
    return text[0].upper() + text[1:]


def article(rng: random.Random, pool: Names | None = None) -> str:
    """One article: a title line, then paragraphs of three to six sentences."""
    pool = pool or names()
    title = _fill(rng.choice(TITLES), rng, pool)
    grow_to = rng.randint(*GROW_TO)
    paragraphs: list[str] = []
    size = len(title.encode()) + 1
    while size < grow_to:
        sentences: list[str] = []
        for _ in range(rng.randint(3, 6)):
            roll = rng.random()
            kinds = FACTS if roll < 0.3 else HEDGED if roll < 0.38 else FILLER
            sentence = _fill(rng.choice(kinds), rng, pool)
            sentences.append(sentence)
            size += len(sentence.encode()) + 1
            if size >= grow_to:
                break
        paragraphs.append(" ".join(sentences))
        size += 1
    return "\n\n".join([title, *paragraphs]) + "\n"


def generate(
    n: int, directory: str | Path | None = None, seed: int = 0
) -> Iterator[tuple[str, str]]:
    """``n`` articles as (name, text); with ``directory``, each is also written as name.txt."""
    rng = random.Random(seed)
    pool = names()
    out = Path(directory) if directory is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        name = f"article-{i:06d}"
        text = article(rng, pool)
        if out is not None:
            (out / f"{name}.txt").write_text(text, encoding="utf-8")
        yield name, text


def write_corpus(n: int, directory: str | Path, seed: int = 0) -> int:
    """Write ``n`` articles into ``directory``; the total number of bytes written."""
    return sum(len(text.encode()) for _, text in generate(n, directory, seed))
