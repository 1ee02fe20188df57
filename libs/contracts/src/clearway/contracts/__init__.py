"""Clearway contracts."""
