"""The web app and HTTP API over a store (optional extra ``web``): ``create_app(db, token=...)``, ``serve(...)``."""

from __future__ import annotations

from pathlib import Path


def serve(db: str | Path, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None) -> None:
    """Run the web app with uvicorn until interrupted."""
    import uvicorn

    from storytrace.web.app import create_app

    uvicorn.run(create_app(db, token=token), host=host, port=port, log_level="warning")


__all__ = ["serve"]
