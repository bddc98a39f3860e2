"""Testbeds: outcome panels, synthetic control, inference, DiD, transfer, evaluation."""
