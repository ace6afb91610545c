"""The ``diplograph`` command.

    diplograph extract PATH... [--format turtle|trig|nquads|ntriples|jsonld] [--output FILE]
    diplograph evaluate --gold DIR PATH...
    diplograph run [PATH...]

Errors about one input are printed on one line naming the input and the reason; the
other inputs are still processed, and the exit status says whether any failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from diplograph import config
from diplograph.extraction import extract_all

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _error(message: str) -> None:
    print(f"diplograph: error: {message}", file=sys.stderr)


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract facts from articles and write them as RDF."""
    from extract.rdf import Vocabulary, to_quads
    from extract.serialize import write_quads

    settings = config.load(base=args.base)
    v = Vocabulary(settings.base)
    quads = []
    failed = 0
    for result in extract_all(args.paths, jobs=args.jobs):
        if result.error is not None:
            _error(str(result.error))
            failed += 1
            continue
        assert result.article is not None and result.facts is not None
        quads.extend(to_quads(result.article, result.facts, v))
    try:
        write_quads(quads, args.format, args.output)
    except OSError as err:
        _error(f"{args.output}: cannot write: {err.strerror}")
        return EXIT_FAILED
    return EXIT_FAILED if failed else EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print precision and recall of the extractor against gold facts."""
    from extract.evaluate import Score, load_gold, score

    gold_dir = Path(args.gold)
    if not gold_dir.is_dir():
        _error(f"{gold_dir}: gold directory does not exist")
        return EXIT_USAGE
    gold = load_gold(gold_dir)
    total = Score()
    failed = 0
    for result in extract_all(args.paths, jobs=args.jobs):
        if result.error is not None:
            _error(str(result.error))
            failed += 1
            continue
        assert result.article is not None and result.facts is not None
        stem = Path(result.article.source).stem
        record = gold.get(stem)
        if record is None:
            _error(f"{result.item}: no gold file {stem}.yaml in {gold_dir}")
            failed += 1
            continue
        sc = score(result.facts, record)
        total.add(sc)
        if args.verbose:
            for line in sc.misses:
                print(f"  missed   {stem}: {line}")
            for line in sc.false_positives:
                print(f"  extra    {stem}: {line}")
    print(total.report())
    if total.unresolved:
        print("gold names not in the gazetteer: " + ", ".join(sorted(set(total.unresolved))))
    return EXIT_FAILED if failed else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Extract the sample corpus and print the facts found, article by article."""
    from extract.gazetteer import load as load_gazetteer

    gaz = load_gazetteer()

    def name(key: str, people: dict[str, str]) -> str:
        entity = gaz.entities.get(key)
        return entity.name if entity else people.get(key, key)

    failed = 0
    for result in extract_all(args.paths or [str(config.CORPUS_DIR)], jobs=args.jobs):
        if result.error is not None:
            _error(str(result.error))
            failed += 1
            continue
        assert result.article is not None and result.facts is not None
        facts, people = result.facts, result.facts.people
        print(f"\n# {result.article.title}  ({result.article.source})")
        for m in facts.memberships:
            dates = " - ".join(d.value if d else "" for d in (m.start, m.end)).strip(" -")
            print(
                f"  membership  {name(m.member, people)} | {m.role.replace('-', ' ')} | "
                f"{name(m.organization, people)}" + (f" | {dates}" if dates else "")
            )
        for e in facts.events:
            place = name(e.location, people) if e.location else ""
            where = f" in {place}" if place and place not in e.label else ""
            when = f" ({e.start.value})" if e.start else ""
            print(f"  event       {e.type}: {e.label}{where}{when}")
    return EXIT_FAILED if failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diplograph",
        description="Turn news articles about international relations into a knowledge graph.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--jobs", type=int, default=1, help="processes to extract with")
        p.add_argument("--base", help="base IRI of the graph (env DIPLOGRAPH_BASE)")

    p = sub.add_parser("extract", help="extract facts from articles as RDF")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, directory or URL")
    p.add_argument(
        "--format",
        default="turtle",
        choices=["turtle", "trig", "nquads", "ntriples", "jsonld", "rdfxml"],
    )
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    common(p)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("evaluate", help="precision and recall against gold facts")
    p.add_argument("--gold", required=True, help="directory of gold YAML files")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--verbose", "-v", action="store_true", help="list misses and extras")
    common(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("run", help="extract the sample corpus and print its facts")
    p.add_argument("paths", nargs="*", metavar="PATH")
    common(p)
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "jobs", 1) < 1:
        _error("--jobs must be at least 1")
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
