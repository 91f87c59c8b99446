"""`make demo`: real syncs between the FreshBooks sandbox, CSV files and SQLite, step by step."""
