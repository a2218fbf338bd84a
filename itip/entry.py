"""The `itip` command's entry point.

Importing the command line and building it take a few hundred milliseconds (Typer,
Click, every command's module); Ctrl-C pressed then ended with a traceback. Here it
ends as it does anywhere else: one line, exit 130 (itip.cli.app.EXIT_INTERRUPTED).
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from itip.cli import app

        app()  # Typer builds the Click command first, outside the command's own error handler
    except KeyboardInterrupt:
        sys.stderr.write("itip: interrupted (Ctrl-C)\n")
        raise SystemExit(130) from None
