"""Clearway funding."""
