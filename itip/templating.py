"""The one Jinja2 environment for every HTML page itip writes (the report, the data dictionary).

Autoescaping is on for every template, so text from release files, codebooks and the
warehouse is escaped where it is written into the page, not by hand at each call; only
`Markup` a template builds itself is trusted. Templates live in itip/templates/.
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.cache
def environment() -> Environment:
    """Built once per process: Jinja2 compiles each template on first use and keeps it."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,  # a misspelt name is an error, not an empty string on the page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
