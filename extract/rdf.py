"""Facts as RDF quads, following docs/data-model.md and ../shared/vocabulary.md.

An article's own statements (the article, its mentions, memberships and events) go into
the article's named graph; descriptions of the entities they mention (labels, codes,
sameAs links) into the shared entities graph. Identifiers are deterministic, so the
same article always gives the same quads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, Quad

from extract.dates import Date
from extract.facts import Event, Facts, Membership, Mention
from extract.gazetteer import Entity, Gazetteer
from extract.gazetteer import load as load_gazetteer
from extract.reader import Article

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
NIF = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
DCTERMS = "http://purl.org/dc/terms/"
GEONAMES = "https://sws.geonames.org/"

PREFIXES = {
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "skos": SKOS,
    "org": ORG,
    "schema": SCHEMA,
    "prov": PROV,
    "nif": NIF,
    "dcterms": DCTERMS,
}

TYPE = NamedNode(RDF + "type")
LABEL = NamedNode(RDFS + "label")
ALT = NamedNode(SKOS + "altLabel")


class Vocabulary:
    """The IRIs of one deployment, all derived from its base IRI."""

    def __init__(self, base: str) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.dg = self.base + "ontology#"
        self.entities_graph = NamedNode(self.base + "graph/entities")
        self.ontology_graph = NamedNode(self.base + "graph/ontology")

    def term(self, name: str) -> NamedNode:
        """A term of the project ontology: ``dg:Membership``."""
        return NamedNode(self.dg + name)

    def entity(self, key: str) -> NamedNode:
        """``country:kaz`` -> ``{base}id/country/kaz``."""
        kind, ident = key.split(":", 1)
        folder = "place" if kind == "city" else kind
        return NamedNode(f"{self.base}id/{folder}/{ident}")

    def role(self, slug: str) -> NamedNode:
        return NamedNode(f"{self.base}id/role/{slug}")

    def article(self, article: Article) -> NamedNode:
        return NamedNode(f"{self.base}id/article/{article.key}")

    def article_graph(self, article: Article) -> NamedNode:
        return NamedNode(f"{self.base}graph/article/{article.key}")

    def mention(self, article: Article, m: Mention) -> NamedNode:
        return NamedNode(f"{self.base}id/article/{article.key}#char={m.begin},{m.end}")


def _hash(*parts: object) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _date(d: Date) -> Literal:
    return Literal(d.value, datatype=NamedNode(d.datatype))


def _en(text: str) -> Literal:
    return Literal(text, language="en")


def _int(n: int) -> Literal:
    return Literal(str(n), datatype=NamedNode(XSD + "nonNegativeInteger"))


def membership_iri(v: Vocabulary, article: Article, m: Membership) -> NamedNode:
    """A membership as one article states it.

    Keyed by the article as well as the facts: each article graph then holds its own
    statements, so the union that queries see never repeats a triple, and removing one
    article leaves another article's statement of the same fact whole.
    """
    start = m.start.value if m.start else None
    end = m.end.value if m.end else None
    ident = _hash(article.key, m.member, m.organization, m.role, start, end)
    return NamedNode(f"{v.base}id/membership/{ident}")


def event_iri(v: Vocabulary, article: Article, e: Event) -> NamedNode:
    start = e.start.value if e.start else None
    ident = _hash(article.key, e.type, e.label, start, e.location, *e.concerns)
    return NamedNode(f"{v.base}id/event/{ident}")


def article_quads(article: Article, facts: Facts, v: Vocabulary) -> Iterator[Quad]:
    """The article, its mentions, memberships and events, in the article's graph."""
    g = v.article_graph(article)
    a = v.article(article)
    for cls in (v.term("Article"), NamedNode(NIF + "Context"), NamedNode(SCHEMA + "Article")):
        yield Quad(a, TYPE, cls, g)
    yield Quad(a, NamedNode(DCTERMS + "title"), Literal(article.title), g)
    yield Quad(a, NamedNode(DCTERMS + "source"), NamedNode(article.source), g)
    yield Quad(a, NamedNode(NIF + "isString"), Literal(article.text), g)
    yield Quad(a, v.term("contentHash"), Literal(article.content_hash), g)
    mentions: dict[Mention, NamedNode] = {}

    def mention(m: Mention) -> NamedNode:
        if m not in mentions:
            mentions[m] = v.mention(article, m)
        return mentions[m]

    for m in facts.memberships:
        node = membership_iri(v, article, m)
        yield Quad(node, TYPE, v.term("Membership"), g)
        yield Quad(node, TYPE, NamedNode(ORG + "Membership"), g)
        yield Quad(node, NamedNode(ORG + "member"), v.entity(m.member), g)
        yield Quad(node, NamedNode(ORG + "organization"), v.entity(m.organization), g)
        yield Quad(node, NamedNode(ORG + "role"), v.role(m.role), g)
        if m.start:
            yield Quad(node, NamedNode(SCHEMA + "startDate"), _date(m.start), g)
        if m.end:
            yield Quad(node, NamedNode(SCHEMA + "endDate"), _date(m.end), g)
        for x in m.mentions:
            yield Quad(node, NamedNode(PROV + "wasDerivedFrom"), mention(x), g)
    for e in facts.events:
        node = event_iri(v, article, e)
        for cls in (v.term(e.type), v.term("Event"), NamedNode(SCHEMA + "Event")):
            yield Quad(node, TYPE, cls, g)
        yield Quad(node, LABEL, _en(e.label), g)
        if e.start:
            yield Quad(node, NamedNode(SCHEMA + "startDate"), _date(e.start), g)
        if e.end:
            yield Quad(node, NamedNode(SCHEMA + "endDate"), _date(e.end), g)
        if e.location:
            yield Quad(node, NamedNode(SCHEMA + "location"), v.entity(e.location), g)
        for p in e.participants:
            yield Quad(node, v.term("participant"), v.entity(p), g)
            yield Quad(node, NamedNode(SCHEMA + "attendee"), v.entity(p), g)
        for c in e.concerns:
            yield Quad(node, v.term("concerns"), v.entity(c), g)
            yield Quad(node, NamedNode(SCHEMA + "about"), v.entity(c), g)
        for x in e.mentions:
            yield Quad(node, NamedNode(PROV + "wasDerivedFrom"), mention(x), g)
    for m, node in mentions.items():
        yield Quad(node, TYPE, v.term("Mention"), g)
        yield Quad(node, TYPE, NamedNode(NIF + "String"), g)
        yield Quad(node, NamedNode(NIF + "anchorOf"), Literal(m.text), g)
        yield Quad(node, NamedNode(NIF + "beginIndex"), _int(m.begin), g)
        yield Quad(node, NamedNode(NIF + "endIndex"), _int(m.end), g)
        yield Quad(node, NamedNode(NIF + "referenceContext"), a, g)


def referenced_entities(facts: Facts) -> set[str]:
    """Keys of every entity the facts mention."""
    keys = set()
    for m in facts.memberships:
        keys.update((m.member, m.organization))
    for e in facts.events:
        keys.update(e.participants)
        keys.update(e.concerns)
        if e.location:
            keys.add(e.location)
    return keys


def entity_quads(
    keys: Iterable[str], v: Vocabulary, people: dict[str, str], gaz: Gazetteer | None = None
) -> Iterator[Quad]:
    """Descriptions of entities (and their parents and countries) in the entities graph."""
    gaz = gaz or load_gazetteer()
    g = v.entities_graph
    todo = sorted(set(keys))
    done: set[str] = set()
    while todo:
        key = todo.pop()
        if key in done:
            continue
        done.add(key)
        if key.startswith("person:"):
            node = v.entity(key)
            yield Quad(node, TYPE, v.term("Person"), g)
            yield Quad(node, TYPE, NamedNode(SCHEMA + "Person"), g)
            yield Quad(node, LABEL, _en(people.get(key, key.split(":", 1)[1])), g)
            continue
        entity = gaz.entities.get(key)
        if entity is None:
            continue
        yield from _describe(entity, v, g)
        if entity.parent:
            todo.append(f"organization:{entity.parent}")
        if entity.country:
            todo.append(f"country:{entity.country}")


def _describe(entity: Entity, v: Vocabulary, g: NamedNode) -> Iterator[Quad]:
    node = v.entity(entity.key)
    classes = {
        "country": ["Country", SCHEMA + "Country"],
        "organization": ["Organization", ORG + "FormalOrganization", SCHEMA + "Organization"],
        "body": ["Organization", ORG + "FormalOrganization", SCHEMA + "Organization"],
        "treaty": ["Treaty", SCHEMA + "Legislation"],
        "city": ["City", "Place", SCHEMA + "City", SCHEMA + "Place"],
    }[entity.kind]
    for cls in classes:
        yield Quad(node, TYPE, NamedNode(cls) if ":" in cls else v.term(cls), g)
    yield Quad(node, LABEL, _en(entity.name), g)
    for alias in dict.fromkeys([*entity.aliases, *entity.former_names]):
        if alias != entity.name:
            yield Quad(node, ALT, _en(alias), g)
    for former in entity.former_names:
        yield Quad(node, v.term("formerName"), _en(former), g)
    if entity.notation:
        yield Quad(node, NamedNode(SKOS + "notation"), Literal(entity.notation), g)
    if entity.geonames:
        yield Quad(node, NamedNode(OWL + "sameAs"), NamedNode(f"{GEONAMES}{entity.geonames}/"), g)
    if entity.parent:
        parent = v.entity(f"organization:{entity.parent}")
        yield Quad(node, NamedNode(ORG + "subOrganizationOf"), parent, g)
    if entity.country:
        country = v.entity(f"country:{entity.country}")
        yield Quad(node, NamedNode(SCHEMA + "containedInPlace"), country, g)


def to_quads(article: Article, facts: Facts, v: Vocabulary) -> list[Quad]:
    """Everything one article contributes: its own graph and the entities it needs."""
    quads = list(article_quads(article, facts, v))
    quads.extend(entity_quads(referenced_entities(facts), v, facts.people))
    return quads
