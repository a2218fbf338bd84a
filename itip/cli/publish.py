"""Commands that take the data out: export, report, lake init."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core

from itip.problems import ItipError
from itip.server_cli import server_app

if TYPE_CHECKING:
    pass


from itip.cli.app import LakeDataOpt, WarehouseOpt, _fail, _run_settings, _where, app


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="parquet, csv or xlsx.")] = ExportFormat.parquet,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write into (default: export/ beside the warehouse).")
    ] = None,
    plain_csv: Annotated[
        bool, typer.Option("--plain-csv", help="CSV for programs (`,`, decimal point, no BOM) instead of for Excel.")
    ] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write every table and view of the warehouse as files, plus _columns with every column's description.

    parquet: one .parquet per table and view (DuckDB, pandas, Power BI, Datasette);
    csv: one .csv each, for Norwegian Excel (`;`, decimal comma, UTF-8 with BOM)
    unless --plain-csv; xlsx: one workbook itip.xlsx with a sheet per table and view
    and the column descriptions as notes on the header cells.

    Example: itip export --format csv --out /tmp/itip-csv
    """
    from itip.export import export as export_files

    wh_path = _where(warehouse)
    if not isinstance(wh_path, Path):
        raise _fail("itip export works on a warehouse file; a lake's data are Parquet files already", 2)
    target = out or wh_path.parent / "export"
    if plain_csv and fmt is not ExportFormat.csv:
        raise _fail("--plain-csv goes with --format csv", 2)
    try:
        written = export_files(wh_path, target, fmt.value, plain_csv=plain_csv)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{target}: cannot write the export: {exc.strerror or exc}") from None
    typer.echo(f"{target}: {len(written)} file(s) ({fmt.value}{', plain' if plain_csv else ''})")


class Lang(StrEnum):
    no = "no"
    en = "en"


@app.command()
def report(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for index.html and charts/ (default: report/ beside the warehouse)."),
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of labels and text: no (Norwegian) or en.")] = Lang.no,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the key-figures report: one offline HTML page and one PNG chart per figure.

    Per topic, one card per indicator and segment: latest value, change since the
    previous comparable year, significance, good or bad, and a chart of the whole
    series with intervals, breaks and sources. Opens without network.

    Example: itip report --out report --lang en
    """
    from itip.codebook import load_codebook
    from itip.report.build import write_report

    wh_path = _where(warehouse)
    target = out or wh_path.parent / "report"
    try:
        result = write_report(
            wh_path, target, lang=lang.value, codebook=load_codebook(), chart_cache=_run_settings().chart_cache
        )
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{target}: cannot write the report: {exc.strerror or exc}") from None
    typer.echo(f"{result.path} ({len(result.cards)} cards, {len(result.charts)} charts, {result.charts_drawn} redrawn)")


lake_app = typer.Typer(help="Create a DuckLake warehouse, or move a file warehouse into one.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")
app.add_typer(server_app, name="server")


@lake_app.command("init")
def lake_init(
    warehouse: WarehouseOpt = None,
    lake_data: LakeDataOpt = None,
    source: Annotated[
        Path | None, typer.Option("--from", help="A DuckDB file warehouse whose releases and rejections to copy in.")
    ] = None,
) -> None:
    """Create the lake's catalog and data path, load the schema and codebook, and
    optionally copy every release, estimate and rejection of a file warehouse.

    Example: itip lake init -w "ducklake:postgres:dbname=itip host=db" --lake-data s3://itip/lake/
    --from warehouse/itip.duckdb
    """
    from itip.codebook import load_codebook
    from itip.lake import Lake, migrate, open_lake, retry_conflicts

    where = _where(warehouse, lake_data)
    if not isinstance(where, Lake):
        raise _fail(f"{where}: not a lake; give --warehouse ducklake:<catalog> (or set ITIP_WAREHOUSE)", 2)
    try:
        codebook = load_codebook()
        if source is not None:
            counts = migrate(source, where, codebook)
            typer.echo(f"{where.name}: copied " + ", ".join(f"{n} {t}" for t, n in counts.items()) + f" from {source}")
            return
        with open_lake(where) as wh:
            retry_conflicts(lambda: wh.sync_codebook(codebook), where)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{where.name}: ready")
