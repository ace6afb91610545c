"""HTTP: the SPARQL endpoint, the graph store protocol and the pages; calls graph/."""

from server.app import create_app

__all__ = ["create_app"]
