from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Third-party benchmark data lives beside the project, never inside it.
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def seed_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.txt"))


@pytest.fixture
def seed_texts(seed_paths: list[Path]) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in seed_paths}


def require_data(*parts: str) -> Path:
    """Skip a test whose benchmark data folder is absent (it lives in ../shared/data)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"benchmark data not found: {path}")
    return path
