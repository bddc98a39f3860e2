"""The indicator library: every indicator for every place, by work area."""
