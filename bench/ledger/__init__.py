"""`make bench-ledger`: throughput and latency of the ledger's three write paths."""
