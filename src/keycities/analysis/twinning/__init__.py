"""Twinning: pair places across divides (bridge) or alike (bond), optimally, with a certificate."""
