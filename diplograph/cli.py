"""The ``diplograph`` command.

    diplograph extract PATH... [--format turtle|trig|nquads|ntriples|jsonld] [--output FILE]
    diplograph evaluate --gold DIR PATH...
    diplograph ingest PATH... [--store DIR]          (files, directories, URLs)
    diplograph remove ARTICLE...                     (path, URL or article key)
    diplograph export [--format F] [--graph IRI] [--output FILE]
    diplograph import FILE...                        (bulk load RDF dumps)
    diplograph backup DIR / diplograph restore DIR
    diplograph stats
    diplograph query 'SPARQL' | --file Q.rq [--format table|json|csv|tsv|turtle]
    diplograph serve [--host H] [--port P] [--store DIR]
    (store commands take --store-url URL to use a remote SPARQL store instead of --store)
    diplograph run [PATH...]                         (ingest the sample corpus, then serve)

Errors about one input are printed on one line naming the input and the reason; the
other inputs are still processed, and the exit status says whether any failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from diplograph import config

if TYPE_CHECKING:
    from collections.abc import Iterator

    from diplograph.extraction import Result
    from graph.base import KnowledgeStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def extract_all(*args: object, **kwargs: object) -> Iterator[Result]:
    """diplograph.extraction.extract_all, imported on first use.

    Loading spaCy and the gazetteers takes most of a second; store-only commands
    (import, export, stats, query, serve) never pay for it.
    """
    from diplograph.extraction import extract_all as run

    return run(*args, **kwargs)


def _error(message: str) -> None:
    print(f"diplograph: error: {message}", file=sys.stderr)


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract facts from articles and write them as RDF, article by article.

    In the streamable formats each worker serializes its own articles; the parent only
    writes them out, with each entity's description the first time an article needs it.
    """
    import functools

    from diplograph.extraction import each
    from extract.rdf import PREFIXES, Vocabulary, entity_quads, referenced_entities, to_quads
    from extract.serialize import STREAMABLE, render, render_article

    settings = config.load(base=args.base)
    v = Vocabulary(settings.base)
    failed = 0
    out = sys.stdout.buffer if args.output in (None, "-") else None
    try:
        sink = out or open(args.output, "wb")  # noqa: SIM115 - closed below
    except OSError as err:
        _error(f"{args.output}: cannot write: {err.strerror}")
        return EXIT_FAILED
    streaming = args.format in STREAMABLE
    article_rdf = functools.partial(render_article, fmt=args.format, base=v.base)
    work = functools.partial(each, article_rdf) if streaming else None
    collected = []  # formats that cannot be written in pieces (JSON-LD, RDF/XML)
    seen_entities: set = set()
    try:
        if args.format in ("turtle", "trig"):
            sink.write("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items()).encode())
        for result in extract_all(args.paths, jobs=args.jobs, finish=work):
            if result.error is not None:
                _error(str(result.error))
                failed += 1
                continue
            assert result.article is not None and result.facts is not None
            facts = result.facts
            if not streaming:
                collected.extend(to_quads(result.article, facts, v))
                continue
            assert isinstance(result.payload, bytes)
            sink.write(result.payload)
            # Entity descriptions are written once, with the first article that needs them.
            new = [
                q
                for q in entity_quads(referenced_entities(facts), v, facts.people)
                if q not in seen_entities
            ]
            seen_entities.update(new)
            if new:
                sink.write(render(new, args.format, keep_prefixes=False))
        if collected:
            sink.write(render(collected, args.format))
        sink.flush()
    finally:
        if out is None:
            sink.close()
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


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the store over HTTP with a production server (Granian)."""
    import dataclasses

    from server.serve import serve

    overrides = {
        "host": args.host,
        "port": args.port,
        "query_timeout_s": args.timeout,
        "query_workers": args.workers,
        "threads": args.threads,
        "http_workers": args.http_workers,
        "query_allocator": args.query_allocator,
        "write_token": args.write_token,
    }
    settings = dataclasses.replace(
        _settings(args), **{k: v for k, v in overrides.items() if v is not None}
    )
    return serve(settings)


def cmd_run(args: argparse.Namespace) -> int:
    """Build the graph from the sample corpus, show its facts, and serve it."""
    from diplograph.ingest import ingest

    paths = args.paths or [str(config.CORPUS_DIR)]
    with _open_store(args) as store:
        summary = ingest(paths, store, jobs=args.jobs, progress=True)
        print(summary.report(), file=sys.stderr)
    status = _print_facts(args, paths)
    if args.no_serve:
        return status
    return cmd_serve(args)


def _print_facts(args: argparse.Namespace, paths: list[str]) -> int:
    """Print the facts of each article, as a quick look at what was extracted."""
    from extract.gazetteer import load as load_gazetteer

    gaz = load_gazetteer()

    def name(key: str, people: dict[str, str]) -> str:
        entity = gaz.entities.get(key)
        return entity.name if entity else people.get(key, key)

    failed = 0
    for result in extract_all(paths, jobs=args.jobs):
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


def _settings(args: argparse.Namespace) -> config.Settings:
    """The settings, with the store options of the command line.

    ``--store DIR`` means the embedded store even where the environment names a remote one.
    """
    import dataclasses

    settings = config.load(
        base=getattr(args, "base", None),
        store=getattr(args, "store", None),
        store_url=getattr(args, "store_url", None),
    )
    if getattr(args, "store", None) and not getattr(args, "store_url", None):
        settings = dataclasses.replace(settings, store_url=None, store_query_url=None)
    return settings


def _open_store(args: argparse.Namespace, read_only: bool = False) -> KnowledgeStore:
    """The embedded store, or the remote one when a store URL is set."""
    from graph.store import GraphStore, StoreError

    settings = _settings(args)
    if settings.remote:
        from graph.remote import RemoteStore

        return RemoteStore.from_settings(settings, read_only=read_only)
    if read_only and not Path(settings.store).exists():
        raise StoreError(f"{settings.store}: no store here yet (run `diplograph ingest` first)")
    return GraphStore(settings.store, settings.base)


def _where(store: KnowledgeStore) -> str:
    """Where the store is, for messages: its directory or its URL."""
    return str(getattr(store, "url", None) or getattr(store, "path", ""))


def cmd_ingest(args: argparse.Namespace) -> int:
    """Extract, validate and store articles (with --dry-run: validate only)."""
    from diplograph.ingest import check, ingest
    from graph.validate import ShapesError, Validator

    validator = None
    if args.shapes:
        try:
            validator = Validator(shapes=args.shapes).load()
        except OSError as err:
            _error(f"--shapes {args.shapes}: cannot read it ({err.strerror or err})")
            return EXIT_FAILED
        except (UnicodeDecodeError, ShapesError) as err:
            _error(f"--shapes {args.shapes}: {err}")
            return EXIT_FAILED
    progress = not args.quiet
    if args.dry_run:
        base = _settings(args).base
        summary = check(args.paths, base, jobs=args.jobs, progress=progress, validator=validator)
        print(summary.report(), file=sys.stderr)
        return EXIT_FAILED if summary.rejected else EXIT_OK
    with _open_store(args) as store:
        summary = ingest(args.paths, store, jobs=args.jobs, progress=progress, validator=validator)
        print(summary.report(), file=sys.stderr)
        print(f"store: {_where(store)} (revision {store.revision()})", file=sys.stderr)
    return EXIT_FAILED if summary.rejected else EXIT_OK


def _article_key(item: str) -> str:
    """An article's key from its key, IRI, file path or URL."""
    import hashlib
    import re

    if re.fullmatch(r"[0-9a-f]{16}", item):
        return item
    if "/id/article/" in item or "/graph/article/" in item:
        return item.rstrip("/").rsplit("/", 1)[-1]
    source = item if re.match(r"https?://", item) else Path(item).resolve().as_uri()
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def cmd_remove(args: argparse.Namespace) -> int:
    """Take articles' facts out of the store."""
    failed = 0
    with _open_store(args) as store:
        for item in args.articles:
            if store.remove_article(_article_key(item)):
                print(f"removed {item}", file=sys.stderr)
            else:
                _error(f"{item}: no such article in the store")
                failed += 1
    return EXIT_FAILED if failed else EXIT_OK


def _has_graph(store: KnowledgeStore, iri: str) -> bool:
    """Whether the store has a named graph ``iri`` with something in it."""
    from pyoxigraph import NamedNode

    try:
        node = NamedNode(iri)
    except ValueError:
        return False
    return bool(store.query(f"ASK {{ GRAPH {node} {{ ?s ?p ?o }} }}"))


def cmd_export(args: argparse.Namespace) -> int:
    """Write the whole graph (or one named graph) in an RDF format, streaming."""
    with _open_store(args, read_only=True) as store:
        if args.graph and not _has_graph(store, args.graph):
            _error(f"{args.graph}: no such graph in the store")
            return EXIT_FAILED
        if args.output in (None, "-"):
            store.dump(sys.stdout.buffer, args.format, args.graph)
            sys.stdout.buffer.flush()
        else:
            with open(args.output, "wb") as out:
                store.dump(out, args.format, args.graph)
    return EXIT_OK


IMPORT_FORMATS = {
    ".ttl": "turtle",
    ".trig": "trig",
    ".nq": "nquads",
    ".nt": "ntriples",
    ".jsonld": "jsonld",
    ".rdf": "rdfxml",
    ".xml": "rdfxml",
}


def cmd_import(args: argparse.Namespace) -> int:
    """Bulk-load RDF files (an export, a backup in N-Quads) without validation."""
    from extract.serialize import FORMATS

    failed = 0
    with _open_store(args) as store:
        for name in args.files:
            path = Path(name)
            fmt = args.format or IMPORT_FORMATS.get(path.suffix.lower())
            if not path.is_file():
                _error(f"{path}: does not exist")
                failed += 1
            elif fmt is None:
                _error(f"{path}: unknown RDF format (use --format)")
                failed += 1
            else:
                try:
                    store.bulk_load(path, FORMATS[fmt])
                except (SyntaxError, ValueError, OSError) as err:
                    _error(f"{path}: cannot be loaded: {err}")
                    failed += 1
    return EXIT_FAILED if failed else EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        store.backup(Path(args.directory))
    print(f"backup written to {args.directory}", file=sys.stderr)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from graph.store import StoreError, restore

    settings = _settings(args)
    if settings.remote:
        raise StoreError(
            "restore replaces an embedded store's directory; a remote store is restored with "
            "its own tools (or load an export into it with `diplograph import FILE --store-url "
            "URL`)"
        )
    restore(Path(args.directory), Path(settings.store))
    print(f"store {settings.store} restored from {args.directory}", file=sys.stderr)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    import json

    with _open_store(args, read_only=True) as store:
        stats = store.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return EXIT_OK
    entities = ", ".join(f"{k.lower()} {v}" for k, v in stats["entities"].items())  # type: ignore[union-attr]
    print(f"quads        {stats['quads']}")
    print(f"graphs       {stats['graphs']}")
    print(f"articles     {stats['articles']}")
    print(f"entities     {entities}")
    print(f"memberships  {stats['memberships']}")
    print(f"events       {stats['events']}")
    print(f"revision     {stats['revision']}")
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    """Run a SPARQL query on the store and print the results."""
    from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, serialize

    from diplograph.table import compact, render
    from extract.rdf import PREFIXES

    if args.file:
        try:
            sparql = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            _error(f"{args.file}: cannot read the query: {err}")
            return EXIT_USAGE
    elif args.sparql:
        sparql = args.sparql
    else:
        _error("give a query, or --file Q.rq")
        return EXIT_USAGE
    with _open_store(args, read_only=True) as store:
        try:
            results = store.query(sparql)
        except SyntaxError as err:
            _error(f"the query is not valid SPARQL: {err}")
            return EXIT_USAGE
        out = sys.stdout.buffer
        if isinstance(results, QueryBoolean):
            print("true" if bool(results) else "false")
        elif isinstance(results, QuerySolutions):
            if args.format == "table":
                prefixes = {"id": store.v.base + "id/", "dg": store.v.dg, **PREFIXES}
                variables = [v.value for v in results.variables]
                rows = [[compact(row[v], prefixes) for v in variables] for row in results]
                print(render(variables, rows))
            else:
                fmt = {
                    "json": QueryResultsFormat.JSON,
                    "csv": QueryResultsFormat.CSV,
                    "tsv": QueryResultsFormat.TSV,
                    "xml": QueryResultsFormat.XML,
                }
                if args.format not in fmt:
                    _error(f"--format {args.format} does not apply to SELECT results")
                    return EXIT_USAGE
                results.serialize(out, fmt[args.format])
        else:
            fmt = {
                "turtle": RdfFormat.TURTLE,
                "ntriples": RdfFormat.N_TRIPLES,
                "jsonld": RdfFormat.JSON_LD,
                "rdfxml": RdfFormat.RDF_XML,
            }
            chosen = fmt.get(args.format, RdfFormat.TURTLE)
            kwargs = {"prefixes": PREFIXES} if chosen == RdfFormat.TURTLE else {}
            # pyoxigraph's serialize takes prefixes; QueryTriples.serialize does not.
            serialize(results, out, format=chosen, **kwargs)
        out.flush()
    return EXIT_OK


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

    def store_option(p: argparse.ArgumentParser) -> None:
        where = p.add_mutually_exclusive_group()
        where.add_argument(
            "--store", help="store directory (env DIPLOGRAPH_STORE; default var/store)"
        )
        where.add_argument(
            "--store-url",
            help="a remote SPARQL store instead, e.g. http://host:7878 for `oxigraph serve` "
            "(env DIPLOGRAPH_STORE_URL)",
        )
        p.add_argument("--base", help="base IRI of the graph (env DIPLOGRAPH_BASE)")

    p = sub.add_parser("ingest", help="extract, validate and store articles")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, directory or URL")
    p.add_argument("--jobs", type=int, default=1, help="processes to extract with")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="extract and validate only: report what would be rejected, write nothing",
    )
    p.add_argument(
        "--shapes",
        type=Path,
        metavar="FILE",
        help="SHACL shapes (Turtle) to validate against instead of ontology/shapes.ttl",
    )
    store_option(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("remove", help="take articles' facts out of the store")
    p.add_argument("articles", nargs="+", metavar="ARTICLE", help="path, URL or article key")
    store_option(p)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("export", help="write the graph in an RDF format")
    p.add_argument(
        "--format",
        default="turtle",
        choices=["turtle", "trig", "nquads", "ntriples", "jsonld", "rdfxml"],
    )
    p.add_argument("--graph", help="only this named graph (IRI)")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    store_option(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="bulk-load RDF files into the store")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=sorted(set(IMPORT_FORMATS.values())))
    store_option(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("backup", help="copy the store into a new directory")
    p.add_argument("directory", metavar="DIR")
    store_option(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the store with a backup")
    p.add_argument("directory", metavar="DIR")
    store_option(p)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("stats", help="counts of what the store holds")
    p.add_argument("--json", action="store_true")
    store_option(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("query", help="run a SPARQL query on the store")
    p.add_argument("sparql", nargs="?", help="the query text")
    p.add_argument("--file", "-f", help="read the query from a file")
    p.add_argument(
        "--format",
        default="table",
        choices=["table", "json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld", "rdfxml"],
    )
    store_option(p)
    p.set_defaults(func=cmd_query)

    def serve_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
        p.add_argument("--port", type=int, help="port (default 5000)")
        p.add_argument("--timeout", type=float, help="query time limit in seconds (default 30)")
        p.add_argument("--workers", type=int, help="query worker processes (per HTTP worker)")
        p.add_argument(
            "--http-workers", type=int, help="processes that answer HTTP (default: one per core)"
        )
        p.add_argument("--threads", type=int, help="HTTP threads (default: two per query worker)")
        p.add_argument(
            "--query-allocator",
            metavar="NAME",
            help="malloc of the query workers: auto (default: tcmalloc, mimalloc or "
            "jemalloc if installed), system, tcmalloc, mimalloc, jemalloc, or a path",
        )
        p.add_argument("--write-token", help="enable updates with this Bearer token")

    p = sub.add_parser("serve", help="serve the store: SPARQL endpoint and pages")
    serve_options(p)
    store_option(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("run", help="ingest the sample corpus, print its facts, and serve it")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--jobs", type=int, default=1, help="processes to extract with")
    p.add_argument("--no-serve", action="store_true", help="stop after ingesting")
    serve_options(p)
    store_option(p)
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "jobs", 1) < 1:
        _error("--jobs must be at least 1")
        return EXIT_USAGE
    from graph.store import StoreError

    try:
        return int(args.func(args))
    except StoreError as err:
        _error(str(err))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
