"""The `itip` command line (see itip/cli/app.py for exit codes and the error handler).

Importing the package registers every command on `app`; the modules import only what
starting a command needs, the rest inside each command (`itip check` stays lean).
"""

# isort: off
# In this order, the order `itip --help` lists them: loading, asking, publishing.
from itip.cli import load  # noqa: F401
from itip.cli import ask  # noqa: F401
from itip.cli import publish  # noqa: F401

# isort: on
from itip.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
