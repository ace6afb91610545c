"""The facts an article states, before they become RDF."""

from __future__ import annotations

from dataclasses import dataclass, field

from extract.dates import Date

#: Role slugs; their labels live in ontology/diplograph.ttl.
ROLE_LABELS = {
    "member": "member",
    "founding-member": "founding member",
    "chair": "chair",
    "non-permanent-member": "non-permanent member",
    "observer": "observer",
    "dialogue-partner": "dialogue partner",
    "party": "party",
}

EVENT_TYPES = frozenset(
    [
        "Summit",
        "Conference",
        "Meeting",
        "TreatySigning",
        "Accession",
        "Election",
        "Founding",
        "Renaming",
        "Exhibition",
        "Talks",
        "Agreement",
        "Proposal",
        "Independence",
        "CapitalRelocation",
        "Withdrawal",
    ]
)


@dataclass(frozen=True)
class Mention:
    """A sentence of the article: ``text == article.text[begin:end]``."""

    begin: int
    end: int
    text: str


@dataclass
class Membership:
    """``member`` holds ``role`` in ``organization`` (entity keys, e.g. ``country:kaz``)."""

    member: str
    organization: str
    role: str
    start: Date | None = None
    end: Date | None = None
    mentions: list[Mention] = field(default_factory=list)
    #: the trigger label that produced it (JOIN, CHAIR, ...); not part of the data
    trigger: str = field(default="", compare=False)


@dataclass
class Event:
    """Something that happened, with the entities involved (entity keys)."""

    type: str
    label: str
    start: Date | None = None
    end: Date | None = None
    location: str | None = None
    participants: list[str] = field(default_factory=list)
    concerns: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


@dataclass
class Facts:
    """Everything extracted from one article."""

    memberships: list[Membership] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    #: person key -> full name, for the people the facts mention
    people: dict[str, str] = field(default_factory=dict)
    #: the country the article is mostly about, if any
    main_country: str | None = None
