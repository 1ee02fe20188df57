"""Dead letters an operator can see and count, kept in the consuming service's own database.

When the consumer runner gives up on a record it copies it to `<topic>.dlq` and then, before the
offset commit, records it here (one row per group, topic, partition and offset), so the count is
exact, survives restarts, and does not depend on the broker's offsets (the embedded broker reports
end offsets wrongly and keeps its log in memory only).

- `entries`: the `DeadLetterEntry` the runner builds from the record;
- `preview`: the bounded payload preview, with phone numbers, IBANs, card numbers and tokens masked;
- `repository`: all SQL (record once, list newest first, count by topic) and `SqlDeadLetterLog`;
- `router`: `GET /admin/dead-letters`, `/admin/dead-letters/count` and `/admin/dead-letters/{id}`.
"""

from __future__ import annotations

from clearway.platform.dead_letters.entries import DeadLetterEntry as DeadLetterEntry
from clearway.platform.dead_letters.entries import dead_letter_entry as dead_letter_entry
from clearway.platform.dead_letters.repository import Recorded as Recorded
from clearway.platform.dead_letters.repository import SqlDeadLetterLog as SqlDeadLetterLog
