"""The background Prefect server: started by the first command, reused by the next ones,
replaced when it died, stopped on request; a configured PREFECT_API_URL always wins."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from itip import server
from tests.conftest import REPO

ITIP = Path(sys.executable).parent / "itip"
STARTED = "started the local Prefect server in the background"


def _env(state: Path, **extra: str) -> dict[str, str]:
    """A user's shell: no Prefect server configured, itip's default (background) mode."""
    env = {k: v for k, v in os.environ.items() if k not in {"PREFECT_API_URL", "ITIP_PREFECT_SERVER"}}
    env["ITIP_PREFECT_STATE"] = str(state)
    env["PREFECT_HOME"] = str(state.parent / "home")
    return {**env, **extra}


def _itip(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ITIP), *args], capture_output=True, text=True, env=env, timeout=400)


def _ingest(raw: Path, warehouse: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _itip("ingest", "--raw", str(raw), "--warehouse", str(warehouse), env=env)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    for name in ("itip_2020.csv", "itip_2021.csv"):
        (folder / name).write_bytes((REPO / "raw" / name).read_bytes())
    return folder


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "state"
    yield folder
    server.stop(folder)  # never leave a server running behind a test


def _flow_runs(url: str) -> int:
    return len(httpx.post(f"{url}/flow_runs/filter", json={}, timeout=10).json())


@pytest.mark.slow
def test_later_commands_reuse_the_server_and_a_killed_one_or_a_stale_pid_is_replaced(
    raw: Path, state: Path, tmp_path: Path
) -> None:
    template = tmp_path / "cache" / "prefect.db"  # the machine's first server: no template yet
    env = _env(state, ITIP_PREFECT_DB_TEMPLATE=str(template))
    first = _ingest(raw, tmp_path / "a.duckdb", env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert STARTED in first.stderr
    info = server.read_info(state)
    assert info is not None and server.healthy(info.url)
    # it left its migrated database for the next new state folder, taken before the run
    with sqlite3.connect(template) as db:
        assert db.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM flow_run").fetchone() == (0,)

    again = _ingest(raw, tmp_path / "a.duckdb", env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing new" in again.stdout
    assert STARTED not in again.stderr
    assert server.read_info(state) == info  # the same process, not a new one
    assert _flow_runs(info.url) == 2  # both runs are real flow runs on that server, visible in its UI

    status = _itip("server", "status", env=env)
    assert status.returncode == 0
    assert f"running: {info.url.removesuffix('/api')} (pid {info.pid}" in status.stdout

    os.killpg(info.pid, signal.SIGKILL)  # the server dies (crash, OOM killer, reboot)
    while server.healthy(info.url, timeout=1):
        time.sleep(0.2)
    status = _itip("server", "status", env=env)
    assert status.returncode == 1
    assert f"the recorded pid {info.pid} does not answer: stale" in status.stdout

    # By the next command the dead server's pid may be anyone's: here a live process of the
    # user's that must be neither trusted as the server nor killed.
    stranger = subprocess.Popen(["sleep", "300"])
    try:
        (state / server.STATE_FILE).write_text(
            json.dumps({"pid": stranger.pid, "port": info.port, "url": info.url, "started": info.started}),
            encoding="utf-8",
        )
        status = _itip("server", "status", env=env)
        assert status.returncode == 1
        assert f"the recorded pid {stranger.pid} does not answer: stale" in status.stdout

        third = _ingest(raw, tmp_path / "b.duckdb", env)
        assert third.returncode == 0, third.stdout + third.stderr
        assert STARTED in third.stderr
        renewed = server.read_info(state)
        assert renewed is not None and renewed.pid not in (info.pid, stranger.pid) and server.healthy(renewed.url)
        assert stranger.poll() is None  # left alone

        stopped = _itip("server", "stop", env=env)
        assert stopped.returncode == 0
        assert f"stopped the Prefect server at {renewed.url} (pid {renewed.pid})" in stopped.stdout
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
    assert not server.healthy(renewed.url)
    assert _itip("server", "status", env=env).returncode == 1
    assert "no server was running" in _itip("server", "stop", env=env).stdout


@pytest.mark.slow
def test_a_new_state_folder_starts_from_the_migrated_template(
    raw: Path, state: Path, tmp_path: Path, shared_prefect_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new project's first command copies the machine's migrated database instead of
    migrating one (about half of a server's start); its runs work as on any server. A
    database configured elsewhere is never seeded."""
    if not shared_prefect_template.exists():  # this run's first server: it leaves the template
        scratch = tmp_path / "scratch"
        server.ensure(scratch, template=shared_prefect_template)
        server.stop(scratch)
    template = tmp_path / "template.db"
    shutil.copy(shared_prefect_template, template)
    with sqlite3.connect(template) as db:  # marks the copy: a database seeded from it has the mark
        db.execute("CREATE TABLE seeded_from_template (x INTEGER)")
    env = _env(state, ITIP_PREFECT_DB_TEMPLATE=str(template))
    first = _ingest(raw, tmp_path / "a.duckdb", env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert STARTED in first.stderr
    info = server.read_info(state)
    assert info is not None and server.serves(info.url, state)
    assert _flow_runs(info.url) == 1
    with sqlite3.connect(state / server.DATABASE) as db:
        assert db.execute("SELECT count(*) FROM seeded_from_template").fetchone() == (0,)

    assert server._seeds(template)
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://elsewhere/prefect")
    assert not server._seeds(template)


@pytest.mark.slow
def test_first_commands_at_once_start_one_server_per_project(raw: Path, state: Path, tmp_path: Path) -> None:
    """Two commands of one project start one server; a third, of another project (its own
    state folder) at the same moment, gets a server of its own although both first try port
    4200, and its run lands there, not on the other project's server."""
    other = tmp_path / "other" / "state"
    commands = [
        subprocess.Popen(
            [str(ITIP), "ingest", "--raw", str(raw), "--warehouse", str(tmp_path / f"{i}.duckdb")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(folder),
        )
        for i, folder in enumerate([state, state, other])
    ]
    try:
        outputs = [p.communicate(timeout=400) for p in commands]
        for p, (out, err) in zip(commands, outputs, strict=True):
            assert p.returncode == 0, out + err
        assert sum(STARTED in err for _, err in outputs[:2]) == 1  # one started it, the other waited and reused it
        assert STARTED in outputs[2][1]
        info, theirs = server.read_info(state), server.read_info(other)
        assert info is not None and theirs is not None and info.url != theirs.url
        assert server.serves(info.url, state) and server.serves(theirs.url, other)
        assert _flow_runs(info.url) == 2
        assert _flow_runs(theirs.url) == 1
    finally:
        server.stop(other)


@pytest.mark.slow
def test_a_configured_prefect_api_url_wins(raw: Path, state: Path, tmp_path: Path, prefect_harness: None) -> None:
    from prefect.settings import PREFECT_API_URL

    url = str(PREFECT_API_URL.value())
    env = _env(state, PREFECT_API_URL=url)
    done = _ingest(raw, tmp_path / "w.duckdb", env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert STARTED not in done.stderr
    assert not (state / server.STATE_FILE).exists()  # nothing was started
    status = _itip("server", "status", env=env)
    assert f"PREFECT_API_URL is set: itip uses the Prefect server at {url}" in status.stdout
