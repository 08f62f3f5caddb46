"""The soak load generator, briefly: `storytrace serve` in its own process answers steady load without errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from storytrace.corpus import Corpus
from tests.reliability.faultlib import run_pipeline, settings_for

pytest.importorskip("uvicorn", reason="the web extra is not installed")


def test_a_short_soak_has_no_errors_and_reports_windows(fault_corpus: Path, tmp_path: Path) -> None:
    from storytrace.bench.soak import soak

    db = tmp_path / "s.db"
    run_pipeline(db, fault_corpus)
    with Corpus(settings=settings_for(db).replace(quote_parse=False)) as c:
        c.analyze(["quotes", "actors", "stories"])
    figures = soak(db, seconds=8, clients=2)
    assert figures["requests"] > 0 and figures["errors"] == 0, figures["error_statuses"]
    assert figures["p95_ms"] >= figures["p50_ms"] > 0
    assert figures["rss_mb_start"] and figures["windows"][0]["requests"] == figures["requests"]


def test_summary_windows_and_error_rate() -> None:
    from storytrace.bench.soak import summarise

    samples = [(t / 10, 10.0 + (t % 7), 200 if t % 50 else 500) for t in range(600)]  # 60 s, every 50th fails
    rss = [(t, 100.0 + t / 60) for t in range(0, 61, 5)]
    found = summarise(samples, rss, seconds=60, clients=1, urls=3)
    assert found["requests"] == 600 and found["errors"] == 12 and found["error_statuses"] == {"500": 12}
    assert [w["from_s"] for w in found["windows"]] == [0, 30] and found["windows"][0]["rps"] == 10.0
    assert found["rss_mb_start"] == 100.0 and found["rss_mb_end"] == 101.0
