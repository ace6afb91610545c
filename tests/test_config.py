"""Settings (diplograph/config.py): environment variables, options, derived defaults."""

from __future__ import annotations

import pytest

from diplograph import config


def test_two_http_threads_per_query_worker_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIPLOGRAPH_THREADS", raising=False)
    monkeypatch.setenv("DIPLOGRAPH_QUERY_WORKERS", "3")
    assert config.load().threads == 6
    assert config.load(query_workers=5).threads == 10  # serve --workers 5
    monkeypatch.setenv("DIPLOGRAPH_THREADS", "7")
    assert config.load().threads == 7
    assert config.load(threads=9).threads == 9  # serve --threads 9


@pytest.mark.parametrize(
    ("value", "pinned"),
    [(None, True), ("1", True), ("0", False), ("off", False), ("False", False), ("yes", True)],
)
def test_the_http_threads_are_pinned_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, pinned: bool
) -> None:
    if value is None:
        monkeypatch.delenv("DIPLOGRAPH_PIN_HTTP", raising=False)
    else:
        monkeypatch.setenv("DIPLOGRAPH_PIN_HTTP", value)
    assert config.load().pin_http is pinned
