"""Step 3 of the posting path: posting, i.e. the domain rules applied with group commit.

Read top to bottom:
- `operations.py`: what can be posted (`Transfer`, `CommitHold`, `VoidHold`, `Refund`,
  `ApplyScheduled`, `PostEntry`) and what each answers (`OperationResult`);
- `pipeline.py`: the group-commit queue; one store transaction per batch, retried on a lost race;
- `executor.py`: one batch: load and lock -> apply each operation in arrival order -> write;
- `loading.py`: look up references, lock holds then balances in id order;
- `transfers.py`, `holds.py`, `refunds.py`, `entry_poster.py`: apply one operation in memory;
- `state.py`: what a batch read, locked and staged; `writes.py`: hand the staged writes to the store.

Step 2 (`service/commands.py`) builds the operations; step 4 is the store behind the
`PostingUnitOfWork` / `PostingStore` port (`service/ports.py`).
"""
