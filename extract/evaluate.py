"""Compare extracted facts with hand-written gold facts.

Gold files (YAML, one per article, named like the article's stem) write entities as
people do ("Kazakhstan", "ECOSOC", "Nursultan Nazarbayev"); they are resolved with the
same gazetteer as the extractor, so a gold name the gazetteer does not know counts as
a missed fact rather than being silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from extract.facts import Event, Facts
from extract.gazetteer import Gazetteer
from extract.gazetteer import load as load_gazetteer
from extract.mentions import person_key

ROLE_SLUGS = {
    "member": "member",
    "founding member": "founding-member",
    "chair": "chair",
    "non-permanent member": "non-permanent-member",
    "observer": "observer",
    "dialogue partner": "dialogue-partner",
    "party": "party",
}


@dataclass
class Score:
    """Counts for one or many articles; ratios are computed from the counts."""

    pred_memberships: int = 0
    gold_memberships: int = 0
    matched_memberships: int = 0
    role_correct: int = 0
    dated: int = 0
    date_correct: int = 0
    pred_events: int = 0
    gold_events: int = 0
    matched_pred_events: int = 0
    matched_gold_events: int = 0
    negatives_hit: int = 0
    unresolved: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name, value in vars(other).items():
            if isinstance(value, list):
                getattr(self, name).extend(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    @property
    def membership_precision(self) -> float:
        return self._ratio(self.matched_memberships, self.pred_memberships)

    @property
    def membership_recall(self) -> float:
        return self._ratio(self.matched_memberships, self.gold_memberships)

    @property
    def role_accuracy(self) -> float:
        return self._ratio(self.role_correct, self.matched_memberships)

    @property
    def date_accuracy(self) -> float:
        return self._ratio(self.date_correct, self.dated)

    @property
    def event_precision(self) -> float:
        return self._ratio(self.matched_pred_events, self.pred_events)

    @property
    def event_recall(self) -> float:
        return self._ratio(self.matched_gold_events, self.gold_events)

    def report(self) -> str:
        """A short human-readable summary."""
        return "\n".join(
            [
                f"memberships  precision {self.membership_precision:.3f}  "
                f"recall {self.membership_recall:.3f}  "
                f"({self.matched_memberships} matched, {self.pred_memberships} extracted, "
                f"{self.gold_memberships} gold)",
                f"roles        accuracy  {self.role_accuracy:.3f}",
                f"dates        accuracy  {self.date_accuracy:.3f}  ({self.dated} gold dates)",
                f"events       precision {self.event_precision:.3f}  "
                f"recall {self.event_recall:.3f}  "
                f"({self.matched_gold_events}/{self.gold_events} gold found, "
                f"{self.pred_events} extracted)",
                f"negatives    {self.negatives_hit} wrongly extracted",
            ]
        )


def _key(gaz: Gazetteer, name: str | None, unresolved: list[str]) -> str | None:
    if not name:
        return None
    entity = gaz.resolve(name)
    if entity is not None:
        return entity.key
    if " " in name and name[0].isupper() and gaz.resolve(name.split()[-1]) is None:
        return person_key(name)
    unresolved.append(name)
    return f"unresolved:{name}"


def score(facts: Facts, gold: dict) -> Score:
    """Score one article's facts against its gold record."""
    gaz = load_gazetteer()
    sc = Score()
    pred: dict[tuple[str, str], list] = {}
    for m in facts.memberships:
        pred.setdefault((m.member, m.organization), []).append(m)
    gold_pairs: dict[tuple[str, str], dict] = {}
    for g in gold.get("memberships") or []:
        pair = (_key(gaz, g["member"], sc.unresolved), _key(gaz, g["organization"], sc.unresolved))
        gold_pairs[pair] = g  # type: ignore[index]
    sc.pred_memberships = len(pred)
    sc.gold_memberships = len(gold_pairs)
    for pair, g in gold_pairs.items():
        found = pred.get(pair)
        if not found:
            sc.misses.append(f"membership {g['member']} - {g['organization']}")
            continue
        sc.matched_memberships += 1
        role = ROLE_SLUGS.get(str(g.get("role", "member")), str(g.get("role")))
        if any(m.role == role for m in found):
            sc.role_correct += 1
        if g.get("start") or g.get("end"):
            sc.dated += 1
            want = (_s(g.get("start")), _s(g.get("end")))
            if any((_v(m.start), _v(m.end)) == want for m in found):
                sc.date_correct += 1
    for pair in pred:
        if pair not in gold_pairs:
            sc.false_positives.append(f"membership {pair[0]} - {pair[1]}")
    negatives = {
        (_key(gaz, n["member"], []), _key(gaz, n["organization"], []))
        for n in gold.get("negatives") or []
    }
    sc.negatives_hit = len(negatives & set(pred))
    _score_events(sc, facts.events, gold.get("events") or [], gaz)
    return sc


def _same_day(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def _s(value: object) -> str | None:
    return None if value is None else str(value)


def _v(date: object) -> str | None:
    return None if date is None else date.value  # type: ignore[attr-defined]


def _score_events(sc: Score, events: list[Event], gold: list[dict], gaz: Gazetteer) -> None:
    sc.pred_events = len(events)
    sc.gold_events = len(gold)
    used: set[int] = set()
    for g in gold:
        date = _s(g.get("date"))
        location = _key(gaz, g.get("location"), sc.unresolved)
        concerns = _key(gaz, g.get("concerns"), sc.unresolved)
        for i, e in enumerate(events):
            if i in used or e.type != g["type"]:
                continue
            # The same event may be dated more or less precisely ("2012" / "2012-05").
            if date and e.start and not _same_day(e.start.value, date):
                continue
            anchors = [
                date is not None and e.start is not None and _same_day(e.start.value, date),
                location is not None and e.location == location,
                concerns is not None and concerns in e.concerns,
            ]
            if any(anchors) or (date is None and location is None and concerns is None):
                used.add(i)
                sc.matched_gold_events += 1
                break
        else:
            sc.misses.append(f"event {g['type']} {date or ''} {g.get('concerns') or ''}")
    sc.matched_pred_events = len(used)
    for i, e in enumerate(events):
        if i not in used:
            sc.false_positives.append(f"event {e.type} {e.label!r} {_v(e.start) or ''}")


def load_gold(directory: Path) -> dict[str, dict]:
    """Gold records by article stem."""
    out = {}
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            out[path.stem] = yaml.safe_load(fh) or {}
    return out
