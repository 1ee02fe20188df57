"""Clearway providers."""
