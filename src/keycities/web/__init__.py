"""The keycities web application: a JSON API and pages over the evidence store.

Run it with ``uvicorn --factory keycities.web:create_app``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keycities.web.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # The worker processes import keycities.web.render and keycities.web.tools to run
    # charts and jobs: importing the whole app (every router) only when it is asked for
    # keeps their start-up short.
    if name == "create_app":
        from keycities.web.factory import create_app

        return create_app
    raise AttributeError(f"module 'keycities.web' has no attribute {name!r}")
