"""Commands a person runs often start fast: `itip check` loads neither Prefect nor
the statistics and plotting stacks, and never creates Prefect state; the report's chart
helper loads the plotting stack alone, not the warehouse's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PROBE = """
import json, sys
from typer.testing import CliRunner
from itip.cli import app
result = CliRunner().invoke(app, ["check", *sys.argv[1:]])
stacks = {"prefect", "statsmodels", "scipy", "matplotlib", "duckdb", "samplics", "polars"}
heavy = sorted({m.split(".")[0] for m in sys.modules} & stacks)
print(json.dumps({"code": result.exit_code, "output": result.output, "heavy": heavy}))
"""


def test_check_imports_only_what_checking_needs(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "raw" / "itip_2023.csv"), str(REPO / "raw" / "itip_2022.xlsx")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, result["output"]
    assert "itip_2023.csv: ok" in result["output"]
    assert result["heavy"] == [], f"itip check imported {result['heavy']}"
    assert not (tmp_path / "prefect-home").exists(), "itip check created Prefect state"


HELPER_PROBE = """
import json, sys
import itip.report.drawing
stacks = {"pandas", "duckdb", "jinja2", "prefect", "pandera", "scipy"}
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & stacks)))
"""


def test_the_chart_helper_imports_matplotlib_and_the_cards_only(tmp_path: Path) -> None:
    """The helper (`python -m itip.report.drawing`) starts beside the report's own drawing and
    only helps once it has imported: each module it does not need is time it does not draw."""
    probe = [sys.executable, "-P", "-c", HELPER_PROBE]
    done = subprocess.run(probe, capture_output=True, text=True, cwd=tmp_path, timeout=120, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [], "the chart helper imported these stacks"


SQL_PROBE = """
import json, sys
from pathlib import Path
from typer.testing import CliRunner
from itip.cli import app
warehouse = Path(sys.argv[1])
stacks = {"pandas", "numpy", "pandera", "prefect", "scipy", "statsmodels", "matplotlib"}
results = {}
for name, args, given in [
    ("sql", ["sql", "--csv", "SELECT count(*) AS n FROM estimates", "--warehouse", str(warehouse)], None),
    ("shell", ["shell", "--warehouse", str(warehouse)], "SELECT count(*) AS n FROM estimates;\\n"),
    ("help", ["trend", "--help"], None),
]:
    result = CliRunner().invoke(app, args, input=given)
    results[name] = [result.exit_code, result.output]
heavy = sorted({m.split(".")[0] for m in sys.modules} & stacks)
print(json.dumps({"results": results, "heavy": heavy}))
"""


def test_sql_shell_and_help_need_neither_pandas_nor_numpy(tmp_path: Path) -> None:
    """An analyst's query answers in well under a second: `itip sql` and `itip shell` need
    DuckDB and the terminal, and a command's `--help` needs neither (pandas alone took 0.45 s
    of `itip sql`'s 0.95 s before)."""
    from itip.db import open_warehouse

    warehouse = tmp_path / "itip.duckdb"
    with open_warehouse(warehouse):  # an empty warehouse: its tables, no rows
        pass
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    done = subprocess.run(
        [sys.executable, "-c", SQL_PROBE, str(warehouse)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["results"]["sql"] == [0, "n\n0\n"]
    code, text = result["results"]["shell"]
    assert code == 0 and "(1 row)" in text, text
    code, text = result["results"]["help"]
    assert code == 0 and "Usage: itip trend" in text, text
    assert result["heavy"] == [], f"itip sql, itip shell or a command's help imported {result['heavy']}"
