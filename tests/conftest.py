"""Shared fixtures. Prefect keeps its state in a temporary folder, never in ~/.prefect,
and is told not to send anything anywhere."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session", autouse=True)
def shared_prefect_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated Prefect database (ITIP_PREFECT_DB_TEMPLATE) for the whole run, shared by
    the xdist workers as by the commands of one machine: the first background server a test
    starts leaves it, and every later new state folder starts from a copy instead of
    migrating (8 s of each start). In the run's temporary folder, not the user's cache."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    template = shared / "prefect-template.db"
    os.environ["ITIP_PREFECT_DB_TEMPLATE"] = str(template)
    return template


#: Server services the session's test server runs without: every task run's events written as
#: task-run history (no test reads task runs) and the evaluation of every event against
#: automations (none exist). On two cores they took about a sixth of the CPU of a test file
#: of flow runs (tests/integration/test_flow.py: 77 s of CPU with them, 65 s without). The
#: servers itip itself starts (background, `itip serve`, the worker test's) keep all of them.
IDLE_TEST_SERVER_SERVICES = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real Prefect server for the session; start-up is slow on two cores. Flows called in
    this process run with the settings `itip ingest` gives them (flows.run_settings)."""
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from flows import run_settings

    with ExitStack() as stack:
        # the server process takes its settings from this environment when it starts; the
        # variables are gone again before any test starts a process of its own
        with pytest.MonkeyPatch.context() as env:
            for name, value in IDLE_TEST_SERVER_SERVICES.items():
                env.setenv(name, value)
            stack.enter_context(prefect_test_harness(server_startup_timeout=180))
        stack.enter_context(temporary_settings(updates=run_settings.in_process(None)))
        yield


@dataclass(frozen=True)
class Bundled:
    """The outcome of one real ingest of the bundled raw/ folder: the folder it ran in
    (raw/ and wh/, where wh/ holds the warehouse, its Parquet snapshot, its report and its
    dictionary), what the run returned, and the key-figures artifact it published."""

    folder: Path
    outcomes: tuple[Any, ...]
    artifact: str

    def copy_to(self, dest: Path) -> Path:
        """A private copy of everything the run wrote, in `dest`; the warehouse's path there.
        A copy of the files is what a later reader of them sees: tests that read, or write on
        top of, a freshly built warehouse start from one, free to change it."""
        shutil.copytree(self.folder / "wh", dest, dirs_exist_ok=True)
        return dest / "itip.duckdb"


def latest_artifact(key: str) -> Any:
    """The newest Prefect artifact with this key, from the test server."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def fetch() -> Any:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort="CREATED_DESC", limit=1
            )
            return found[0] if found else None

    return asyncio.run(fetch())


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Bundled:
    """The bundled raw/ folder through the ingest flow ONCE per test process (about 11 s on two
    cores), shared by every test that needs a warehouse freshly built from it; each takes a
    copy (`Bundled.copy_to`). Tests about the ingest run itself (a second run, the stat cache,
    a changed file) still run their own."""
    from flows.ingest import ingest

    folder = tmp_path_factory.mktemp("bundled")
    raw = folder / "raw"
    shutil.copytree(RAW_DIR, raw)
    outcomes = ingest(raw_dir=raw, warehouse=folder / "wh" / "itip.duckdb")
    artifact = latest_artifact("key-figures")
    return Bundled(folder, tuple(outcomes), str(artifact.data) if artifact else "")


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


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Test files in order of their measured seconds, the longest first, each file's tests
    together and in their own order (tests/timings.py: how the two workers share the files)."""
    from tests.timings import file_seconds, longest_first

    def file_of(item: pytest.Item) -> str:
        return item.path.relative_to(REPO).as_posix()

    rank = {name: i for i, name in enumerate(longest_first([file_of(i) for i in items], file_seconds()))}
    items.sort(key=lambda item: rank[file_of(item)])  # stable: a file's tests keep their order


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)
