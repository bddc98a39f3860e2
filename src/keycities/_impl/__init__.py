"""keycities._impl."""
