"""Turn article text into RDF facts; knows nothing of stores or HTTP."""
