"""Clearway reconciliation."""
