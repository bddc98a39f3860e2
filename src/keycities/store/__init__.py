"""keycities.store."""
