"""Clearway ledger."""
