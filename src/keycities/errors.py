"""Errors a person can act on.

Every error the CLI shows is a :class:`KeycitiesError`; its message says what
went wrong and what to do next.  The CLI prints it without a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class KeycitiesError(Exception):
    """Base class for errors with a message meant for the user."""


class UnknownPlaceError(KeycitiesError, LookupError):
    """A place name or code that matches nothing; the message lists close matches."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"Unknown place {query!r}.{hint}")


class AmbiguousPlaceError(KeycitiesError, LookupError):
    """A place name that matches several places; the message lists them."""

    def __init__(self, query: str, candidates: list[str]) -> None:
        self.query = query
        self.candidates = candidates
        super().__init__(
            f"{query!r} is ambiguous; it could be: {'; '.join(candidates)}. "
            "Give a GSS code or a fuller name."
        )


class SharedNameError(UnknownPlaceError):
    """A short name that begins the names of several places ("Newcastle", "Kingston"):
    no place is chosen; ``suggestions`` lists them."""

    def __init__(self, query: str, candidates: list[str]) -> None:
        self.query = query
        self.suggestions = candidates
        KeycitiesError.__init__(
            self, f"{query!r} is ambiguous; it could be: {'; '.join(candidates)}. "
            "Give a GSS code or a fuller name.")


class SourceUnavailableError(KeycitiesError):
    """An official file that is neither cached, in the mirror, nor downloadable."""


class HashMismatchError(KeycitiesError):
    """A fetched file whose sha256 differs from the catalog's."""


class RegisterError(KeycitiesError, ValueError):
    """A network register file with problems; ``problems`` lists each with its line."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{path}: {len(problems)} problem(s); nothing was loaded:\n{lines}"
        )


class StoreNotBuiltError(KeycitiesError):
    """The evidence store does not exist yet or lacks a table."""


@dataclass(frozen=True)
class Param:
    """A parameter named in an error message, by its Python name (``min_km``)."""

    name: str


def cli_option(name: str) -> str:
    """How the command line spells parameter ``name``: ``min_km`` -> ``--min-km``."""
    return "--" + name.replace("_", "-")


class ParameterError(KeycitiesError):
    """An unusable parameter, with the parameters it names kept apart from the words.

    Each front end words the names its own way (:meth:`worded`): the command
    line as its options (``--min-km``, which ``str()`` gives, so the CLI prints
    it as it is), the web app as its fields (``min_km``).
    """

    def __init__(self, *parts: str | Param) -> None:
        self.parts = parts
        super().__init__(self.worded(cli_option))

    def worded(self, name: Callable[[str], str]) -> str:
        """The message with each parameter spelt ``name(parameter)``."""
        return "".join(name(p.name) if isinstance(p, Param) else p for p in self.parts)
