"""Ledger schema documents shipped with the service: `<key>.v<version>.json`, read by
`clearway.ledger.domain.schema.load_shipped_schemas`. A published version never changes; a change
is a new file with the next version.
"""
