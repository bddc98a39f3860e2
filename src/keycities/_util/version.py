"""The package's version (``pyproject.toml``'s, kept equal by ``tests/_util/test_version.py``).

A constant rather than :func:`importlib.metadata.version`, which would add
about 30 ms to every ``keycities`` command.
"""

VERSION = "0.1.0"
