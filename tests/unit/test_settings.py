"""The typed settings object: read once from the environment, refusing unusable values."""

from pathlib import Path

import pytest

from itip.problems import ConfigError
from itip.settings import DEFAULTS, Settings


def test_defaults_when_nothing_is_set():
    assert Settings.from_env({}) == DEFAULTS
    assert DEFAULTS.max_release_bytes == 20 * 1024 * 1024


def test_values_are_typed():
    s = Settings.from_env(
        {
            "ITIP_MAX_RELEASE_ROWS": "12",
            "ITIP_LOCK_WAIT_SECONDS": "0.5",
            "ITIP_RAW": "/r",
            "ITIP_YEAR_RANGE": "1990-2099",
        }
    )
    assert (s.max_release_rows, s.lock_wait_seconds, s.raw, s.year_range) == (12, 0.5, Path("/r"), (1990, 2099))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ITIP_MAX_RELEASE_ROWS": "many"}, "ITIP_MAX_RELEASE_ROWS"),
        ({"ITIP_LAKE_RETRIES": "-1"}, "ITIP_LAKE_RETRIES"),
        ({"ITIP_LOCK_WAIT_SECONDS": "nan"}, "ITIP_LOCK_WAIT_SECONDS"),
        ({"ITIP_PREFECT_SERVER": "cloud"}, "ITIP_PREFECT_SERVER"),
        ({"ITIP_YEAR_RANGE": "2030-2010"}, "ITIP_YEAR_RANGE"),
    ],
)
def test_unusable_value_is_refused_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_replace_keeps_the_rest():
    s = DEFAULTS.replace(max_release_bytes=100)
    assert s.max_release_bytes == 100 and s.max_release_rows == DEFAULTS.max_release_rows


def test_the_worker_deployment_runs_on_the_default_schedule() -> None:
    """prefect.yaml cannot import the default schedule: it repeats it, and this keeps them one."""
    import yaml

    from itip.settings import DEFAULT_CRON, DEFAULT_TIMEZONE
    from tests.conftest import REPO

    deployment = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))["deployments"][0]
    assert deployment["schedules"] == [{"cron": DEFAULT_CRON, "timezone": DEFAULT_TIMEZONE}]
