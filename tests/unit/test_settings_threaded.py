"""The run's settings reach what they configure: each module takes them as an argument
(or a field of an object it already gets) instead of reading a module global."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from itip.lake import Lake, retry_conflicts, target
from itip.paths import DEFAULT_WAREHOUSE, RAW_DIR
from itip.problems import ConfigError, ItipError
from itip.settings import DEFAULTS, Settings
from itip.shell import history_file
from itip.snapshot import private_copy


def test_target_takes_the_warehouse_and_lake_from_the_settings(tmp_path: Path) -> None:
    given = Settings(warehouse=str(tmp_path / "w.duckdb"))
    assert target(None, settings=given) == tmp_path / "w.duckdb"
    assert target(None, settings=DEFAULTS) == DEFAULT_WAREHOUSE
    lake = target(None, settings=Settings(warehouse="ducklake:/x/meta.ducklake", lake_data="/data/", lake_retries=3))
    assert lake == Lake("/x/meta.ducklake", "/data/")
    assert isinstance(lake, Lake) and lake.retries == 3
    assert target("other.duckdb", settings=given) == Path("other.duckdb"), "an explicit warehouse wins"


def _conflicting(calls: list[int]) -> None:
    calls.append(1)
    raise duckdb.TransactionException("Transaction conflict: another writer committed first")


@pytest.mark.parametrize(("retries", "tries"), [(3, 3), (1, 1), (0, 1)])
def test_a_lake_writer_tries_as_often_as_its_settings_say(retries: int, tries: int) -> None:
    """ITIP_LAKE_RETRIES reaches the retry loop through the Lake that `target` builds; 0
    still tries the commit once (it used to end in an internal error without trying)."""
    calls: list[int] = []
    lake = target("ducklake:/x/meta.ducklake", settings=Settings(lake_retries=retries))
    assert isinstance(lake, Lake)
    with pytest.raises(ItipError, match=f"still conflicting with other writers after {tries} attempts"):
        retry_conflicts(lambda: _conflicting(calls), lake)
    assert len(calls) == tries


def test_shell_history_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert history_file(Settings(history=tmp_path / "h")) == tmp_path / "h"
    assert history_file(DEFAULTS) == tmp_path / "state" / "itip" / "history"


def test_private_copies_go_where_the_settings_say(tmp_path: Path) -> None:
    source = tmp_path / "itip_2020.csv"
    source.write_text("survey;indicator;value\n", encoding="utf-8")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with private_copy(source, settings=Settings(read_tmpdir=str(scratch))) as copied:
        assert copied.path.parent.parent == scratch
        assert copied.path.read_bytes() == source.read_bytes()
    assert list(scratch.iterdir()) == [], "the copy is removed when the block ends"


def test_prefect_server_mode_and_state_come_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from itip.server_cli import prefect_api

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert prefect_api(settings=Settings(prefect_server="temporary")) is None
    not_a_folder = tmp_path / "state"
    not_a_folder.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="state folder is not a folder"):
        prefect_api(settings=Settings(prefect_state=not_a_folder))


def test_a_library_call_uses_the_settings_it_is_given_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the entry point reads ITIP_*: a library function called without the run's
    settings gets the documented defaults, so what it does never depends on an environment
    its caller did not see (the entry point's Settings.from_env is what honours the variable)."""
    from itip.release import read_release

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    source = tmp_path / "itip_2020.csv"
    source.write_text("a;b\n1;2\n2;3\n3;4\n", encoding="utf-8")
    monkeypatch.setenv("ITIP_READ_TMPDIR", str(scratch))
    monkeypatch.setenv("ITIP_MAX_RELEASE_ROWS", "2")
    monkeypatch.setenv("ITIP_WAREHOUSE", str(tmp_path / "elsewhere.duckdb"))
    with private_copy(source) as copied:
        assert scratch not in copied.path.parents
    with private_copy(source, settings=Settings.from_env()) as copied:
        assert scratch in copied.path.parents
    assert target(None) == DEFAULT_WAREHOUSE
    assert target(None, settings=Settings.from_env()) == tmp_path / "elsewhere.duckdb"
    published = RAW_DIR / "itip_2023.csv"  # a real published file
    assert len(read_release(published).rows) > 2
    with pytest.raises(ItipError, match="ITIP_MAX_RELEASE_ROWS"):
        read_release(published, Settings.from_env())
