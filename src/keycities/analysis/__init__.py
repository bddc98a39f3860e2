"""keycities.analysis."""
