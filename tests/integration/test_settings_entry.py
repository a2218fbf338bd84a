"""Settings are read where a command starts, never when a module is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from itip.cli import app
from tests.conftest import REPO

#: Modules that still read ITIP_* variables as import-time globals: the respondents
#: restructuring of issue 10 converts them to a `Settings` argument. Once it is merged this
#: set is empty; the test fails for any other module.
PENDING: set[str] = set()

PROBE = """
import importlib, json, os, pkgutil, sys

SKIP = {"os", "_collections_abc", "collections.abc", "typing"}
readers = {}


# A frame reading on behalf of its caller (os; Settings.from_env and the transitional
# itip.paths.__getattr__ that calls it): the read counts for the module that asked.
def helper(frame):
    module = frame.f_globals.get("__name__")
    via_paths = module == "itip.paths" and frame.f_code.co_name == "__getattr__"
    return module in SKIP or module == "itip.settings" or via_paths


class Watched(type(os.environ)):
    def __getitem__(self, key):
        if isinstance(key, str) and key.startswith("ITIP_"):
            frame = sys._getframe(1)
            while frame is not None and helper(frame):
                frame = frame.f_back
            module = frame.f_globals.get("__name__", "") if frame is not None else ""
            if module.split(".")[0] in ("itip", "flows"):
                readers.setdefault(module, set()).add(key)
        return super().__getitem__(key)


os.environ.__class__ = Watched
import itip, flows

names = []
for package in (itip, flows):
    names.append(package.__name__)
    found = pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    names += [m.name for m in found if not m.name.endswith(".__main__")]  # __main__ runs the command
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "readers": {m: sorted(k) for m, k in readers.items()}}))
"""


def test_no_module_reads_the_environment_when_imported(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "ITIP_MAX_RELEASE_ROWS": "3"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"itip.paths", "itip.reading", "itip.lake", "itip.cli", "flows.serve"} <= set(result["imported"])
    readers = set(result["readers"]) - PENDING
    assert not readers, f"read ITIP_* variables when imported: {result['readers']}"


def test_a_misspelt_failpoint_is_refused_before_any_command_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITIP_FAILPOINT", "after_nothing")
    result = CliRunner().invoke(app, ["check", str(REPO / "raw" / "itip_2023.csv")])
    assert result.exit_code == 2
    assert "ITIP_FAILPOINT='after_nothing': expected one of after_lock," in result.output
    assert "itip_2023.csv: ok" not in result.output


def test_the_warehouse_and_release_folder_come_from_the_settings_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ITIP_RAW and ITIP_WAREHOUSE, read once at the command's start, reach the command."""
    monkeypatch.setenv("ITIP_RAW", str(tmp_path / "no-such-folder"))
    result = CliRunner().invoke(app, ["ingest"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'no-such-folder'}: release folder does not exist" in result.output
    monkeypatch.setenv("ITIP_WAREHOUSE", str(tmp_path / "absent.duckdb"))
    result = CliRunner().invoke(app, ["sql", "SELECT 1"])
    assert result.exit_code == 1
    assert str(tmp_path / "absent.duckdb") in result.output
