"""Clients for external money rails and their sandbox simulators.

`clearway.providers.mobile_money` holds the mobile-money contract (C2B STK push), the M-Pesa
Daraja client and an in-memory sandbox. The public API is listed in libs/providers/README.md.
"""
