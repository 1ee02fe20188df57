"""Clearway payout."""
