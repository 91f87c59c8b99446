"""Run every demo scenario in turn: FreshBooks <-> SQLite, then CSV <-> SQLite."""

from demo import csv_sqlite, freshbooks_sqlite

freshbooks_sqlite.main()
csv_sqlite.main()
