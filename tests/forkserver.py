"""`itip` commands in real processes without paying the interpreter's imports each time.

A crash-safety case kills `itip ingest` with SIGKILL at a failpoint; what it proves is about
the warehouse file after the kill, not about Python starting up. Yet each fresh `itip ingest`
imports Prefect, pandas and Pandera first (about 6 s on a busy two-core machine), which is
most of a case. The fork server is one process that imports them once and forks a child per
command: each child is a real, separate process running the console script's `app()` with
its own argv and environment, killed as before, its exit status reported as
`subprocess.run` reports it (-9 for SIGKILL). Nothing else is shared: the server holds no
connection and no file open, and starts no thread, before it forks.

The server is started with the environment it will serve (PREFECT_API_URL among it: Prefect
reads it once, at import); each command's own variables (ITIP_FAILPOINT) are set in the child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_SERVER = r"""
import json, os, signal, sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]  # as the console script: the package as installed
import flows.ingest  # noqa: F401  the cost paid once: Prefect, pandas, Pandera, DuckDB
from itip.cli import app

requests, replies = sys.stdin, sys.stdout
for line in requests:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:  # the command, in its own process
        code = 1
        try:
            os.environ.clear()
            os.environ.update(request["env"])
            for fd, name in ((1, "stdout"), (2, "stderr")):
                target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(target, fd)
                os.close(target)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            signal.alarm(request["timeout"])  # a hung command ends (SIGALRM), as subprocess.run's timeout
            sys.argv = ["itip", *request["args"]]
            try:
                app()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    replies.write(json.dumps({"status": status}) + "\n")
    replies.flush()
"""


class ForkServer:
    """Run `itip ARGS` in a forked child of a process that has imported the ingest already."""

    def __init__(self, env: dict[str, str]):
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self._env = env

    def run(
        self, args: list[str], out_dir: Path, timeout: int = 300, **env: str | None
    ) -> subprocess.CompletedProcess[str]:
        """Like `subprocess.run([itip, *args], capture_output=True, text=True, timeout=timeout)`
        (a command still running at `timeout` is ended by SIGALRM: exit -14), with these
        variables set (None: unset) on top of the server's environment; its output is kept
        in `out_dir`."""
        merged = {k: v for k, v in {**self._env, **env}.items() if v is not None}
        stdout, stderr = out_dir / "itip.stdout", out_dir / "itip.stderr"
        request = {"args": args, "env": merged, "stdout": str(stdout), "stderr": str(stderr), "timeout": timeout}
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        reply = self._proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"the fork server stopped (exit {self._proc.wait()})")
        code = os.waitstatus_to_exitcode(json.loads(reply)["status"])
        return subprocess.CompletedProcess(
            ["itip", *args], code, stdout.read_text(encoding="utf-8"), stderr.read_text(encoding="utf-8")
        )

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
