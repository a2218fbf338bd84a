"""`itip check` helps with the common slips: fractions among percentages (a warning, not a
rejection), the offending value in every message, and a reworded question (alias or break?)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from itip.cli import app
from itip.codebook import load_codebook
from itip.paths import CODEBOOK
from itip.release import check_release
from tests.conftest import write

runner = CliRunner()

NEW_WORDING = "I hvilken grad stoler du på at offentlige digitale løsninger tar vare på opplysningene dine?"


def test_a_fraction_among_percentages_is_a_warning_not_a_rejection(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "itip_2024.csv",
        "survey;indicator;value;source\n"
        "innbyggere;trust_personal_data_safe;48;https://x\n"
        "innbyggere;trust_rights_safeguarded;0,31;https://x\n",
    )
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: itip_2024.csv, row 3, column value: 0,31 looks like a fraction among percentages "
        "(other values go up to 48); it loads as 0,31 %. If 31 % was meant, write 31"
    ) in result.output
    assert "itip_2024.csv: ok, 2 rows" in result.output


def test_small_values_alone_are_not_called_fractions(tmp_path: Path, codebook: object) -> None:
    path = write(tmp_path, "itip_2024.csv", "survey,indicator,value,source\ncitizens,trust_personal_data_safe,0.4,s\n")
    checked = check_release(path, load_codebook())
    assert checked.ok and checked.warnings == []


def test_every_rejection_message_shows_the_offending_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "itip_2024.csv",
        "survey,segment,indicator,value,n,source\n"
        "citizens,all,trust_personal_data_safe,140,12,s\n"
        "citizens,all,trust_rights_safeguarded,40,-5,s\n"
        "organisations,all,uses_common_components,abc,10,s\n"
        "citizens,everyone,digital_skills_medium_or_better,50,10,s\n"
        "citizens,all,clear_sustainability_strategy,50,10,s\n",
    )
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    by_row = {int(m.group(1)): line for line in lines if (m := re.search(r", row (\d+)", line))}
    assert "140" in by_row[2]
    assert "'-5'" in by_row[3]
    assert "'abc'" in by_row[4]
    assert "'everyone'" in by_row[5]
    assert "'citizens'" in by_row[6]  # the survey that contradicts the indicator's


def _paste(codebook_text: str, indicator: str, key: str, line: str) -> str:
    """Insert `line` under `indicator:` -> `key:` as a person would (creating the key if missing)."""
    lines = codebook_text.splitlines()
    start = lines.index(f"  {indicator}:")
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"  \S", lines[i]) or not lines[i].startswith(" "))
    for i in range(start + 1, end):
        if lines[i] == f"    {key}:":
            lines.insert(i + 1, "    " + line.strip())
            return "\n".join(lines) + "\n"
    lines[end:end] = [f"    {key}:", "    " + line.strip()]
    return "\n".join(lines) + "\n"


def test_a_reworded_question_gets_both_lines_to_paste_and_the_question_to_answer(tmp_path: Path) -> None:
    release = write(tmp_path, "itip_2024.csv", f"survey;question;value;source\ninnbyggere;{NEW_WORDING};48;https://x\n")
    result = runner.invoke(app, ["check", str(release)])
    assert result.exit_code == 1
    out = result.output
    assert "question matches no codebook wording" in out
    assert "Is this the same question as trust_personal_data_safe, only reworded?" in out
    assert "Or does the new wording ask something else, so the series breaks?" in out
    pasted = [line.strip() for line in out.splitlines() if line.strip().startswith("- {year: 2024")]
    alias_line, break_line = pasted
    assert NEW_WORDING in alias_line

    # Same question: the alias line alone makes the file check clean, and the series stays comparable.
    as_alias = tmp_path / "alias.yaml"
    as_alias.write_text(_paste(CODEBOOK.read_text("utf-8"), "trust_personal_data_safe", "aliases", alias_line), "utf-8")
    codebook = load_codebook(as_alias)
    checked = check_release(release, codebook)
    assert checked.ok, checked.problems
    assert list(checked.estimates["indicator"]) == ["trust_personal_data_safe"]
    assert [b.year for b in codebook.breaks_for("trust_personal_data_safe")] == []

    # A new question: alias and break line; the codebook now has the break at 2024.
    text = _paste(CODEBOOK.read_text("utf-8"), "trust_personal_data_safe", "aliases", alias_line)
    as_break = tmp_path / "break.yaml"
    as_break.write_text(_paste(text, "trust_personal_data_safe", "breaks", break_line), "utf-8")
    codebook = load_codebook(as_break)
    assert check_release(release, codebook).ok
    assert [b.year for b in codebook.breaks_for("trust_personal_data_safe")] == [2024]
