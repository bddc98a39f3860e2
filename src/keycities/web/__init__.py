"""The keycities web application: a JSON API over the evidence store.

Run it with ``uvicorn --factory keycities.web:create_app``.
"""

from keycities.web.app import create_app

__all__ = ["create_app"]
