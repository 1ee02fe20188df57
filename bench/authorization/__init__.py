"""`make bench-authorization`: authorization decisions over HTTP against a running ledger."""
