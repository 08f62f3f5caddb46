from __future__ import annotations

import pytest

from storytrace.bench import resolve
from tests.conftest import require_data


@pytest.mark.slow  # reads every PolNeAR, BBC and Reuters text, then spawns a process
def test_bench_resolve_reports_wall_and_cpu_time_per_step() -> None:
    data = require_data()
    require_data("reuters21578")
    figures = resolve.run(data, limit=200)["n200"]
    steps = ("duplicates", "variants", "stories", "actors")
    assert figures["articles"] == 200 and figures["stories"] >= 1 and figures["actors"] >= 1
    assert all(figures[f"{s}_cpu_s"] >= 0 and figures[f"{s}_s"] >= 0 for s in steps)
    assert figures["total_cpu_s"] == round(sum(figures[f"{s}_cpu_s"] for s in steps), 1)
    assert figures["peak_memory_mb"] > 0 and len(figures["load_average"]) == 3
