"""Clearway platform."""
