"""Saved queries: ``queries/NAME.rq`` files with a ``#+`` header, and their parameters.

A saved query is valid SPARQL on its own. Its header (comment lines starting with ``#+``,
in the spirit of grlc's decorators) is YAML::

    #+ title: Memberships of a country
    #+ description: Every organization the country belongs to, with role and dates.
    #+ tags: [countries, memberships]
    #+ params:
    #+   - {name: country, type: country, required: true, default: country/kaz}
    #+ display: {type: timeline, start: start, end: end, label: organizationLabel}

Parameter values are turned into RDF terms (checked against their type) and bound to the
query's variables by the engine; they are never pasted into the query text.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pyoxigraph import Literal, NamedNode

XSD = "http://www.w3.org/2001/XMLSchema#"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
PARAM_TYPES = (
    "country",
    "organization",
    "place",
    "article",
    "iri",
    "string",
    "integer",
    "year",
    "date",
)
DISPLAYS = ("table", "bar", "timeline")


class SavedQueryError(Exception):
    """A saved query file that cannot be used, or a bad parameter value."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Param:
    """One parameter of a saved query, bound to the SPARQL variable of the same name."""

    name: str
    type: str = "string"
    required: bool = False
    default: str | None = None
    label: str | None = None
    description: str | None = None

    def term(self, raw: str, base: str) -> NamedNode | Literal:
        """The RDF term for a value given as text; SavedQueryError says what is wrong."""
        value = raw.strip()
        kind = self.type
        try:
            if kind in ENTITY_IDS:
                return NamedNode(_entity_iri(kind, value, base))
            if kind == "iri":
                return NamedNode(_iri(value))
            if kind == "integer":
                return Literal(str(int(value)), datatype=NamedNode(XSD + "integer"))
            if kind == "year":
                if not re.fullmatch(r"-?\d{4}", value):
                    raise ValueError("a year has four digits, e.g. 2017")
                return Literal(value, datatype=NamedNode(XSD + "gYear"))
            if kind == "date":
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise ValueError("a date is written YYYY-MM-DD")
                import datetime

                datetime.date.fromisoformat(value)
                return Literal(value, datatype=NamedNode(XSD + "date"))
            return Literal(value)
        except ValueError as err:
            raise SavedQueryError(
                f"parameter '{self.name}' ({kind}): {raw!r} is not valid: {err}", self.name
            ) from err


#: What an identifier of each kind of entity looks like (the end of its IRI).
ENTITY_IDS = {
    "country": ("country", r"[a-z]{3}"),
    "organization": ("organization", r"[a-z0-9][a-z0-9-]*"),
    "place": ("place", r"[0-9]+"),
    "article": ("article", r"[0-9a-f]{16}"),
}


def _entity_iri(kind: str, value: str, base: str) -> str:
    """'KAZ', 'country/kaz' or the full IRI -> the IRI of that country (or organization,
    or place); anything else is not a value of this parameter."""
    folder, pattern = ENTITY_IDS[kind]
    prefix = f"{base}id/{folder}/"
    if value.startswith(("http://", "https://")):
        ident = value[len(prefix) :] if value.startswith(prefix) else None
    else:
        ident = value.removeprefix(f"{folder}/")
        if kind == "country":
            ident = ident.lower()
    if ident is None or not re.fullmatch(pattern, ident):
        example = {
            "country": "KAZ",
            "organization": "osce",
            "place": "1526384",
            "article": "0123456789abcdef",
        }[kind]
        raise ValueError(f"expected a {kind} id such as {example!r} or an IRI starting {prefix}")
    return prefix + ident


def _iri(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        raise ValueError("not an absolute http(s) IRI")
    NamedNode(value)
    return value


@dataclass(frozen=True)
class SavedQuery:
    """A query file: its SPARQL text, metadata and parameters."""

    name: str
    sparql: str
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    display: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def display_type(self) -> str:
        return str(self.display.get("type", "table"))

    def bind(self, values: dict[str, str], base: str) -> dict[str, NamedNode | Literal]:
        """Terms for the parameters given (or their defaults); unknown names are errors."""
        known = {p.name for p in self.params}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SavedQueryError(
                f"unknown parameter(s) {', '.join(unknown)}; this query takes "
                f"{', '.join(sorted(known)) or 'no parameters'}",
                unknown[0],
            )
        bound = {}
        for p in self.params:
            raw = values.get(p.name)
            if raw is None or raw.strip() == "":
                raw = p.default
            if raw is None or str(raw).strip() == "":
                if p.required:
                    raise SavedQueryError(f"parameter '{p.name}' is required", p.name)
                continue
            bound[p.name] = p.term(str(raw), base)
        return bound

    def as_dict(self) -> dict:
        """The query's description for the JSON API."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "display": self.display or {"type": "table"},
            "params": [
                {
                    "name": p.name,
                    "type": p.type,
                    "required": p.required,
                    "default": p.default,
                    "label": p.label or p.name,
                    "description": p.description,
                }
                for p in self.params
            ],
            "sparql": self.sparql,
        }


def parse(text: str, name: str, path: Path | None = None) -> SavedQuery:
    """A saved query from the text of its file."""
    if not NAME.match(name):
        raise SavedQueryError(
            f"{name!r} is not a valid query name (lower-case letters, digits and hyphens)"
        )
    header = "\n".join(
        line[2:].removeprefix(" ") for line in text.splitlines() if line.startswith("#+")
    )
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as err:
        raise SavedQueryError(f"{name}: the #+ header is not valid YAML: {err}") from err
    if not isinstance(meta, dict):
        raise SavedQueryError(f"{name}: the #+ header must be 'key: value' lines")
    params = []
    for raw in meta.get("params") or []:
        if not isinstance(raw, dict) or "name" not in raw:
            raise SavedQueryError(f"{name}: every parameter needs a name")
        if raw.get("type", "string") not in PARAM_TYPES:
            raise SavedQueryError(
                f"{name}: parameter {raw['name']!r} has unknown type {raw.get('type')!r} "
                f"(one of {', '.join(PARAM_TYPES)})"
            )
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(raw["name"])):
            raise SavedQueryError(f"{name}: parameter name {raw['name']!r} is not a variable")
        params.append(
            Param(
                name=str(raw["name"]),
                type=str(raw.get("type", "string")),
                required=bool(raw.get("required", False)),
                default=None if raw.get("default") is None else str(raw["default"]),
                label=raw.get("label"),
                description=raw.get("description"),
            )
        )
    display = meta.get("display") or {"type": "table"}
    if isinstance(display, str):
        display = {"type": display}
    if display.get("type", "table") not in DISPLAYS:
        raise SavedQueryError(f"{name}: display type must be one of {', '.join(DISPLAYS)}")
    tags = meta.get("tags") or []
    return SavedQuery(
        name=name,
        sparql=text,
        title=str(meta.get("title") or name.replace("-", " ").capitalize()),
        description=str(meta.get("description") or ""),
        tags=tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        params=tuple(params),
        display=dict(display),
        path=path,
    )


class Catalog:
    """The saved queries of a directory, reread when a file changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, tuple[float, SavedQuery]] = {}

    def path_for(self, name: str) -> Path:
        """The file of a query; a name that would leave the directory is refused."""
        if not NAME.match(name):
            raise SavedQueryError(
                f"{name!r} is not a valid query name (lower-case letters, digits and hyphens)"
            )
        path = (self.directory / f"{name}.rq").resolve()
        if path.parent != self.directory.resolve():
            raise SavedQueryError(f"{name!r} would be outside the queries directory")
        return path

    def get(self, name: str) -> SavedQuery | None:
        try:
            path = self.path_for(name)
        except SavedQueryError:
            return None
        if not path.is_file():
            return None
        mtime = path.stat().st_mtime
        cached = self._cache.get(name)
        if cached and cached[0] == mtime:
            return cached[1]
        query = parse(path.read_text(encoding="utf-8"), name, path)
        self._cache[name] = (mtime, query)
        return query

    def all(self) -> list[SavedQuery]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.rq")):
            try:
                query = self.get(path.stem)
            except SavedQueryError:
                continue  # a broken file is reported when it is opened
            if query is not None:
                found.append(query)
        return found

    def save(self, name: str, text: str) -> SavedQuery:
        """Write a new query file (after checking it parses); refuses to overwrite."""
        path = self.path_for(name)
        query = parse(text, name, path)
        if path.exists():
            raise SavedQueryError(f"a query named {name!r} already exists")
        self.directory.mkdir(parents=True, exist_ok=True)
        # Written whole under a name of its own, then linked into place: the link fails
        # if another thread or server process saved that name meanwhile.
        tmp = path.with_suffix(f".rq.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise SavedQueryError(f"a query named {name!r} already exists") from None
        finally:
            tmp.unlink()
        return query


def header(title: str, description: str, params: list[dict], display: str = "table") -> str:
    """The #+ header for a query saved from the SPARQL page."""
    meta = {"title": title, "description": description, "params": params, "display": display}
    lines = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).splitlines()
    return "\n".join(f"#+ {line}" for line in lines) + "\n"
