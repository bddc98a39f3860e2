"""Headline figures of a network: totals and shares of GB/UK, with provenance."""
