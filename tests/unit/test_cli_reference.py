"""The command reference agrees with the CLI: every command (and subcommand) has help with
an example a person can copy, and the README's table of commands names exactly the
commands `itip` has (as sqlite-utils checks its docs against its CLI)."""

from __future__ import annotations

import re
from typing import Any

import typer.main

from itip.cli import app
from tests.conftest import REPO


def commands() -> dict[str, Any]:
    """Every runnable command by its full name (`lake init`), groups left out."""
    found: dict[str, Any] = {}

    def walk(prefix: str, cmd: Any) -> None:
        if hasattr(cmd, "commands"):  # a group (typer's own click classes)
            for name, sub in cmd.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            found[prefix] = cmd

    walk("", typer.main.get_command(app))
    return found


def readme_commands(groups: set[str]) -> set[str]:
    """Commands named in the first cell of each row of the README's *Commands* table;
    a group's subcommands may share a row (`itip server status|stop`)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for cell in re.findall(r"^\| `itip ([^`]*)`", section, flags=re.MULTILINE):
        first, _, rest = cell.partition(" ")
        if first in groups:
            subcommands = rest.split(" ", 1)[0].split("\\|")
            names |= {f"{first} {sub}" for sub in subcommands}
        else:
            names.add(first)
    return names


def test_every_command_has_help_with_an_example() -> None:
    for name, cmd in commands().items():
        help_text = cmd.help or ""
        assert help_text.strip(), f"itip {name} has no help"
        assert f"itip {name}" in help_text, f"itip {name}: its help shows no example (`itip {name} ...`)"


def test_readme_names_exactly_the_commands_the_cli_has() -> None:
    found = commands()
    groups = {name.split(" ")[0] for name in found if " " in name}
    assert readme_commands(groups) == set(found)
