"""Imported by the fork server that starts extraction workers: builds the spaCy pipeline.

Workers are forked from that server, so each starts with the pipeline built (about 1.7 s
saved per worker, and its memory shared until written). The server is started clean, not
forked from a process that may hold threads or Rust runtimes (RocksDB, rudof) that a
forked child cannot use.
"""

from extract.pipeline import pipeline

pipeline()
