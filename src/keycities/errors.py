"""Errors a person can act on.

Every error the CLI shows is a :class:`KeycitiesError`; its message says what
went wrong and what to do next.  The CLI prints it without a traceback.
"""

from __future__ import annotations


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
