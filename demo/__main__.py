"""Run every demo scenario in turn."""

from demo import csv_sqlite

csv_sqlite.main()
