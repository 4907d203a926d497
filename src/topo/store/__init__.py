"""Stage 3, the durable store: members, timers and an outbox in one SQLite file.

Takes what the engine changes at each batch; hands on members across runs and crashes, and
triggers through an outbox. Entry points: :class:`SqliteStore` and :class:`SqliteOutbox`
(``sqlite``), ``exports`` for ``topo export`` and ``topo import`` (checked by ``member_checks``).
"""

from topo.store.sqlite import SqliteOutbox, SqliteStore

__all__ = ["SqliteOutbox", "SqliteStore"]
