"""Clearway devstack."""
