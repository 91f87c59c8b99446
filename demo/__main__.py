"""Run every demo scenario in turn: FreshBooks <-> SQLite, FreshBooks <-> Stripe, then CSV <-> SQLite."""

from demo import csv_sqlite, freshbooks_sqlite, freshbooks_stripe

freshbooks_sqlite.main()
freshbooks_stripe.main()
csv_sqlite.main()
