"""The knowledge graph on disk: an embedded Oxigraph store; knows nothing of HTTP."""
