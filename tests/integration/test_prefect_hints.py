"""Prefect hand-over: `prefect` commands run from the repository have analytics off without
itip's environment. (That the commands `itip serve` prints work as printed is tested with
the schedule, in tests/integration/test_serve.py: one server start for both.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.integration.test_serve import bare_env

PREFECT = Path(sys.executable).parent / "prefect"


def test_prefect_commands_run_in_the_repository_have_analytics_off(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(PREFECT), "config", "view", "--show-sources", "--show-defaults"],
        cwd=REPO,
        env=bare_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "PREFECT_SERVER_ANALYTICS_ENABLED='False' (from prefect.toml)" in done.stdout
