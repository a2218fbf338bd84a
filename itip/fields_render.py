"""The text generated from the column dictionary (`itip.fields`, `itip.tables`): the `COMMENT` statements
of `warehouse/sql/*.sql` and the README's table of tables and views and table of a release
file's columns. `python -m itip.fields_render` (`make fields`) rewrites them; `--check` lists
what is out of date (tests/unit/test_fields.py fails then too)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from itip.fields_release import RELEASE_FILE
from itip.paths import PROJECT_ROOT, SQL_DIR
from itip.tables import TABLES, describe

README = PROJECT_ROOT / "README.md"

# --- generated text: the SQL COMMENTs and the README's table ------------------------------

#: One COMMENT statement per line, as the SQL files write them.
_COMMENT = re.compile(r"^COMMENT ON (TABLE|VIEW|COLUMN) ([a-z_]+)(?:\.([a-z_0-9]+))? IS '(?:[^']|'')*';$", re.M)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_text(kind: str, name: str, column: str | None) -> str:
    """What a COMMENT statement must say, from the dictionary."""
    if name not in TABLES:
        raise KeyError(f"{name} is not in itip/fields.py")
    if column is None:
        if TABLES[name].kind != kind.lower():
            raise KeyError(f"{name} is a {TABLES[name].kind} in itip/fields.py, not a {kind.lower()}")
        return TABLES[name].description
    return describe(name, column)


def render_sql(sql: str) -> str:
    """A schema file with every COMMENT statement's text taken from the dictionary."""

    def replace(match: re.Match[str]) -> str:
        kind, name, column = match.group(1), match.group(2), match.group(3)
        target = f"{name}.{column}" if column else name
        return f"COMMENT ON {kind} {target} IS {_quote(comment_text(kind, name, column))};"

    return _COMMENT.sub(replace, sql)


README_BEGIN = "<!-- BEGIN warehouse tables: generated from itip/tables.py and itip/fields.py by `make fields` -->"
README_END = "<!-- END warehouse tables -->"


def readme_table() -> str:
    lines = ["| name | grain | columns |", "|---|---|---|"]
    for name, spec in TABLES.items():
        if spec.internal:
            continue
        label = f"`{name}`" if spec.kind == "table" else f"view `{name}`"
        lines.append(f"| {label} | {spec.grain} | {', '.join(f'`{c}`' for c in spec.columns)} |")
    return "\n".join(lines)


FILE_BEGIN = "<!-- BEGIN release file columns: generated from itip/fields_release.py by `make fields` -->"
FILE_END = "<!-- END release file columns -->"


def release_file_table() -> str:
    """The README's table of a release file's columns, with every header name itip accepts."""
    from itip.staging import HEADERS  # the reader's own list, so the README cannot promise another

    lines = ["| column | other accepted names | required | meaning |", "|---|---|---|---|"]
    for column, spec in RELEASE_FILE.items():
        names = ", ".join(name for name in HEADERS[column] if name != column)
        lines.append(f"| {column} | {names} | {spec.required} | {spec.meaning} |")
    return "\n".join(lines)


def _replace_block(text: str, begin_mark: str, end_mark: str, body: str) -> str:
    head, begin, rest = text.partition(begin_mark)
    _, end, tail = rest.partition(end_mark)
    if not begin or not end:
        raise ValueError(f"README.md: the markers {begin_mark!r} and {end_mark!r} are missing")
    return f"{head}{begin_mark}\n{body}\n{end_mark}{tail}"


def render_readme(text: str) -> str:
    """The README with its table of tables and views and its table of the release file's
    columns written from the dictionary."""
    text = _replace_block(text, README_BEGIN, README_END, readme_table())
    return _replace_block(text, FILE_BEGIN, FILE_END, release_file_table())


def outdated() -> list[Path]:
    """The files whose generated parts differ from the dictionary."""
    files = [*sorted(SQL_DIR.glob("*.sql")), README]
    return [p for p in files if _render(p, p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]


def _render(path: Path, text: str) -> str:
    return render_readme(text) if path == README else render_sql(text)


def main(argv: list[str]) -> int:
    """`python -m itip.fields_render` rewrites the generated parts; `--check` only lists what is out of date."""
    stale = outdated()
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(PROJECT_ROOT)}: out of date with itip/fields.py; run `make fields`")
        return 1 if stale else 0
    for path in stale:
        path.write_text(_render(path, path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
