"""`python -m itip.cli`: the same as the `itip` command."""

from itip.cli import main

main()
