"""Clearway authorization."""
