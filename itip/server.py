"""The project's local Prefect server: started once in the background, reused by every command.

Prefect's temporary server costs 10-15 s to start on a small machine, and `itip ingest`
used to pay that on every run, even with nothing to load. Instead the first command that
needs Prefect starts `prefect server start` as a detached process (loopback only, analytics
off, state and log in the project's `.prefect/` folder or `ITIP_PREFECT_STATE`), records its
pid and port in `server.json`, and later commands find it there and only check its health.
Runs stay real flow runs, visible in the Prefect UI at the recorded address.

- A configured `PREFECT_API_URL` always wins: nothing is started or read here.
- A stale `server.json` (the process died, was killed, or the pid now belongs to something
  else) is recognised by the health check failing; a new server is started. A pid is only
  ever signalled while its server answers at the recorded address, so an unrelated process
  that inherited the pid is never touched.
- Two commands starting at once: an exclusive lock on `server.lock` serialises the check and
  the start, so the second waits for the first server to come up and then reuses it.
- A port in use (by anything) is skipped: the default 4200, else a free port from the OS. A
  server counts as started only when the one answering there has this state folder as its
  home (`serves`): two projects starting at once cannot end up sharing one server.
- Prefect migrates a new database at start-up: about half of a first start (8 of 18 s
  here). The first server on a machine leaves a copy of its database, taken as soon as it
  answers (migrated, no runs yet), as a template per Prefect version (`template_path`); a
  new state folder starts from a copy of it. A database Prefect is configured to keep
  elsewhere (PREFECT_API_DATABASE_CONNECTION_URL) is left alone.

This module starts and stops a process; it does not import Prefect.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from itip.problems import ItipError

#: Prefect's telemetry switched off, written once: set by every itip process that runs
#: Prefect (flows/__init__.py), by the background server it starts, and in the commands it
#: prints for other shells. prefect.toml does the same for `prefect` commands run here.
TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

DEFAULT_PORT = 4200
HOST = "127.0.0.1"
STARTUP_SECONDS = 180
STATE_FILE = "server.json"
LOCK_FILE = "server.lock"
LOG_FILE = "server.log"
#: Prefect's own SQLite database in its home folder (its default connection URL).
DATABASE = "prefect.db"
#: Settings that move Prefect's database elsewhere: then there is no file to seed.
DATABASE_SETTINGS = ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")


@dataclass(frozen=True)
class ServerInfo:
    """What `server.json` records about the running background server."""

    pid: int
    port: int
    url: str
    started: str


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((HOST, port)) != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers its health check at `url` (…/api)."""
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def serves(url: str, state_dir: Path, timeout: float = 2.0) -> bool:
    """Whether the Prefect API at `url` is the server of this state folder (its PREFECT_HOME),
    not merely a server: another project's server can hold the port. Two first commands of
    different projects both see port 4200 free; the one whose server binds second must not
    take the first one's answer for its own while its own process is still starting."""
    import httpx

    try:
        answer = httpx.get(f"{url}/admin/settings", timeout=timeout)
        return answer.status_code == 200 and Path(str(answer.json().get("home"))).resolve() == state_dir.resolve()
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def _alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that exited: reap it
            return False
    except ChildProcessError:
        pass  # not our child (the usual case: it outlived the command that started it)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_info(state_dir: Path) -> ServerInfo | None:
    """The recorded server, healthy or not; None when nothing (readable) is recorded."""
    try:
        data = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
        return ServerInfo(int(data["pid"]), int(data["port"]), str(data["url"]), str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def status(state_dir: Path) -> ServerInfo | None:
    """The background server if it is running and answering, else None."""
    info = read_info(state_dir)
    return info if info is not None and _alive(info.pid) and healthy(info.url) else None


def template_path(configured: Path | None = None) -> Path | None:
    """Where the migrated database template of the installed Prefect is kept: `configured`
    (ITIP_PREFECT_DB_TEMPLATE) or the user's cache folder, named by Prefect's version (a
    template is only valid for the schema of the version that migrated it)."""
    if configured is not None:
        return configured
    from importlib.metadata import version  # the installed version, without importing Prefect

    try:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home folder to cache in: Prefect migrates every new database
        return None
    return cache / "itip" / f"prefect-{version('prefect')}.db"


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its write-ahead log included), even while a
    server writes to it, put in place atomically: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as src:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    os.replace(tmp, target)


def _seeds(template: Path | None) -> bool:
    return template is not None and not any(os.environ.get(name) for name in DATABASE_SETTINGS)


def _start(
    state_dir: Path,
    port: int | None,
    meanwhile: Callable[[str], None] | None = None,
    seed: Path | None = None,
) -> ServerInfo:
    """Start the server; `seed`: the template a new database starts from, or is left as
    when there is none yet (None: the state folder had a database, or none is seeded)."""
    database = state_dir / DATABASE
    if seed is not None and seed.is_file() and not database.exists():
        try:
            _copy_database(seed, database)
        except (OSError, sqlite3.Error):  # a damaged template: Prefect migrates a new database itself
            database.unlink(missing_ok=True)
    if port is None:
        port = DEFAULT_PORT if _port_free(DEFAULT_PORT) else _free_port()
    elif not _port_free(port):
        raise ItipError(f"port {port} on {HOST} is in use; choose another with --port")
    env = {
        **os.environ,
        "PREFECT_HOME": str(state_dir.resolve()),  # absolute: `serves` compares it, from any folder
        **TELEMETRY_OFF,
    }
    env.pop("PREFECT_API_URL", None)
    prefect = Path(sys.executable).with_name("prefect")
    with (state_dir / LOG_FILE).open("ab") as log_file:
        server = subprocess.Popen(
            [str(prefect), "server", "start", "--host", HOST, "--port", str(port), "--analytics-off"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command, and Ctrl-C here does not reach it
        )
    url = f"http://{HOST}:{port}/api"
    log = state_dir / LOG_FILE
    deadline = time.monotonic() + STARTUP_SECONDS
    if meanwhile is not None:
        meanwhile(url)  # the caller's own start-up, on the other core, while the server migrates its database
    while not serves(url, state_dir):
        if server.poll() is not None:  # also when another server holds the port: then on another one
            raise ItipError(f"the local Prefect server stopped at start-up; see {log}")
        if time.monotonic() > deadline:
            _terminate(server.pid)
            raise ItipError(f"the local Prefect server did not start in {STARTUP_SECONDS} s; see {log}")
        time.sleep(0.3)
    if seed is not None and not seed.is_file() and database.is_file():
        # migrated, and no flow has run yet: the next new state folder starts from here (a cache
        # that cannot be written only costs time later)
        with suppress(OSError, sqlite3.Error):
            _copy_database(database, seed)
    info = ServerInfo(server.pid, port, url, datetime.now(UTC).isoformat(timespec="seconds"))
    tmp = state_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(asdict(info)), encoding="utf-8")
    tmp.replace(state_dir / STATE_FILE)
    return info


def ensure(
    state_dir: Path,
    port: int | None = None,
    meanwhile: Callable[[str], None] | None = None,
    template: Path | None = None,
) -> tuple[ServerInfo, bool]:
    """The running background server, started first if needed; True when started now.
    `template`: the migrated database a new state folder starts from, as configured
    (ITIP_PREFECT_DB_TEMPLATE; None: the user's cache, see `template_path`), resolved only
    when a server is started: a warm command does not pay for finding Prefect's version.

    `meanwhile(url)` is called once, when a server is being started, as soon as its URL is
    known and before it answers: a first command overlaps its own imports with the
    server's start-up (about 15 s, most of it Prefect's database migrations). It is not
    called when a server already runs, nor for the retry on another port below."""
    with _locked(state_dir):
        info = status(state_dir)
        if info is not None:
            return info, False
        # decided once: a retry on another port finds the database the first attempt's server began
        path = template_path(template)
        seed = path if _seeds(path) and not (state_dir / DATABASE).exists() else None
        try:
            return _start(state_dir, port, meanwhile, seed), True
        except ItipError:
            if port is not None:
                raise
            # another program took the default port between the check and the bind: once more on any port
            return _start(state_dir, _free_port(), seed=seed), True


def _terminate(pid: int, grace: float = 30.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)  # the server and the workers it started
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while _alive(pid):
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
        time.sleep(0.2)


def stop(state_dir: Path) -> ServerInfo | None:
    """Stop the background server; return what was stopped (None: nothing was running).

    A record whose server no longer answers is removed without signalling its pid."""
    with _locked(state_dir):
        info = read_info(state_dir)
        if info is None:
            return None
        running = _alive(info.pid) and serves(info.url, state_dir)
        if running:
            _terminate(info.pid)
        (state_dir / STATE_FILE).unlink(missing_ok=True)
        return info if running else None
