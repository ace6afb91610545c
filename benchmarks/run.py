"""Run benchmarks by name.

    python -m benchmarks.run [extraction|store|endpoint|cached|remote|all] [--quick]

Each benchmark is a module with ``run(quick: bool) -> dict`` that writes its results to
``benchmarks/out/`` and prints a Markdown summary. Add a new one to :data:`REGISTRY`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Benchmark name -> module with a ``run(quick)`` function.
REGISTRY: dict[str, str] = {
    "extraction": "benchmarks.extraction",
    "store": "benchmarks.store",  # issue 3: bulk load and ingest at scale
    "endpoint": "benchmarks.endpoint",  # issue 4: the SPARQL endpoint vs oxigraph serve
    "cached": "benchmarks.cached",  # issue 5: cached saved queries
    "remote": "benchmarks.remote",  # issue 7: the embedded store beside a remote one
}


def run(name: str, quick: bool = False) -> dict:
    """Run one registered benchmark and return its results."""
    module = importlib.import_module(REGISTRY[name])
    return module.run(quick=quick)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("name", nargs="?", default="all", choices=[*REGISTRY, "all"])
    parser.add_argument("--quick", action="store_true", help="sizes ten times smaller")
    args = parser.parse_args(argv)
    names = list(REGISTRY) if args.name == "all" else [args.name]
    for name in names:
        print(f"## {name}{' (quick)' if args.quick else ''}\n", flush=True)
        run(name, quick=args.quick)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
