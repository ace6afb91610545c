"""diplograph: news articles about international relations -> a linked-data knowledge graph."""

__version__ = "0.1.0"
