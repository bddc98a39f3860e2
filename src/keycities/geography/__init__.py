"""keycities.geography."""
