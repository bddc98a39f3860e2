"""``python -m keycities.cli``."""

from keycities.cli import main

main()
