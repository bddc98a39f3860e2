"""keycities.network."""
