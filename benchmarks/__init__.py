"""Benchmarks of diplograph: extraction now, store loading and the SPARQL endpoint later."""
