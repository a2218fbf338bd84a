"""Shared fixtures. Prefect keeps its state in a temporary folder, never in ~/.prefect,
and is told not to send anything anywhere."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="itip-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
# Commands run by tests use Prefect's temporary server unless a test says otherwise
# (tests/integration/test_server.py covers the background server); none may touch the repo's .prefect/.
os.environ["ITIP_PREFECT_SERVER"] = "temporary"
os.environ["ITIP_PREFECT_STATE"] = os.path.join(_PREFECT_HOME, "itip-server")
os.environ.pop("ITIP_WAREHOUSE", None)
os.environ.pop("ITIP_RAW", None)

import pytest  # noqa: E402

from itip.codebook import Codebook, load_codebook  # noqa: E402
from itip.paths import RAW_DIR  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook()


@pytest.fixture(scope="session", autouse=True)
def shared_chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One chart cache (ITIP_CHART_CACHE) for the whole run, shared by the xdist workers: the
    bundled figures are reported by dozens of tests, and each series is drawn once instead of
    in every one (about 8 s a report). Drawing itself is tested where no cache is passed
    (tests/unit/test_chart_cache.py; test_report.py's write_report calls). It lives in the run's
    temporary folder, which pytest prunes."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    cache = shared / "itip-chart-cache"
    os.environ["ITIP_CHART_CACHE"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real Prefect server for the session; start-up is slow on two cores."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled raw/ folder, free to modify."""
    target = tmp_path / "raw"
    shutil.copytree(RAW_DIR, target)
    return target


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write a tiny release file written by a test."""
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)
