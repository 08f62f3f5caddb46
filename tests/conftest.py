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


# An article whose title, outlet and text carry markup: pages must show it as text, never run it.
XSS_RECORD = {
    "title": "<script>alert('title')</script> Corbyn & co",
    "outlet": "<img src=x onerror=alert('outlet')>",
    "published": "2016-07-05",
    "text": "Len McCluskey said: \"<script>alert('quote')</script> is not how we do politics.\"\n\n"
            "Tom Watson said Jeremy Corbyn <b>should</b> resign, in a <a href='javascript:alert(1)'>statement</a>.",
}


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real store built from the seed articles plus one hostile article, analyzed (shared by web tests)."""
    import json

    from storytrace import Corpus

    folder = tmp_path_factory.mktemp("web")
    hostile = folder / "hostile.jsonl"
    hostile.write_text(json.dumps(XSS_RECORD) + "\n", encoding="utf-8")
    db = folder / "web.db"
    with Corpus(db) as corpus:
        corpus.ingest([str(EXAMPLES), str(hostile)])
        corpus.analyze()
    return db


def require_data(*parts: str) -> Path:
    """Skip a test whose benchmark data folder is absent (it lives in ../shared/data)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"benchmark data not found: {path}")
    return path
