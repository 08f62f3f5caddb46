"""Fixtures for the reliability tests: a mixed corpus, its fault-free store, and filesystems that fail writes."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.faultlib import build_corpus, check_store, run_pipeline, snapshot


@pytest.fixture(scope="session")
def fault_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("faults") / "corpus")


@pytest.fixture(scope="session")
def reference(fault_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The snapshot of a store built from the fault corpus with no fault at all."""
    db = tmp_path_factory.mktemp("reference") / "reference.db"
    run_pipeline(db, fault_corpus)
    assert check_store(db) == []
    return snapshot(db)


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``where`` (root only; the test is skipped where mounting is not allowed)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)):
        pytest.skip("cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN); the RLIMIT_FSIZE test covers this")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """``folder`` as a read-only view: a read-only bind mount for root (who ignores file modes), else chmod."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield folder
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    view = folder.parent / f"{folder.name}-ro"
    view.mkdir(exist_ok=True)
    if not (_mount("--bind", str(folder), str(view)) and _mount("-o", "remount,ro,bind", str(view))):
        subprocess.run(["umount", str(view)], capture_output=True)
        pytest.skip("cannot make a read-only bind mount here (root without CAP_SYS_ADMIN)")
    try:
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)
