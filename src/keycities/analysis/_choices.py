"""A closed set of parameter values, declared once with its help text.

Each capability declares its closed sets (a productivity benchmark, a
twinning mode, a place set, ...) as a ``Literal`` type and a :class:`Choice`
built from it.  The core validates with :meth:`Choice.check`, the CLI takes
the option's help from :attr:`Choice.help`, and the web uses the ``Literal``
as its parameter type with the same help as its description and the
:attr:`Choice.labels` for its select boxes: one declaration, three front ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast, get_args

from keycities.errors import KeycitiesError

T = TypeVar("T", bound=str)


@dataclass(frozen=True)
class Choice(Generic[T]):
    """The values of a ``Literal`` type, what a person calls them, and help text.

    Parameters
    ----------
    literal
        The ``Literal[...]`` type listing the values.
    name
        What a person calls the parameter ("convergence path").
    help
        The option's help text, shown by the CLI and the web API.
    labels
        Plain-English label of each value (for select boxes); default the value.
    """

    literal: Any
    name: str
    help: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        extra = set(self.labels) - set(self.values)
        if extra:
            raise ValueError(f"labels for values not in the {self.name} choice: {sorted(extra)}")

    @property
    def values(self) -> tuple[T, ...]:
        """The allowed values, in declaration order."""
        return cast(tuple[T, ...], get_args(self.literal))

    def __contains__(self, value: object) -> bool:
        return value in self.values

    def label(self, value: str) -> str:
        """The plain-English label of ``value``."""
        return self.labels.get(value, value)

    def check(self, value: str, message: str | None = None) -> T:
        """``value`` as the Literal type, or a :class:`~keycities.errors.KeycitiesError`.

        The default message is "Unknown <name> 'x': use one of a, b, c.";
        ``message`` replaces it.
        """
        if value not in self.values:
            raise KeycitiesError(message or f"Unknown {self.name} {value!r}: use one of "
                                 f"{', '.join(self.values)}.")
        return cast(T, value)


__all__ = ["Choice"]
