"""dlt's load of the benchmark CSV into SQLite (merge on id), run as its own process by bench/run.py."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import Any

import dlt


def rows(path: str) -> Iterator[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def main(csv_path: str, db_path: str) -> None:
    resource = dlt.resource(rows(csv_path), name="clients", primary_key="id", write_disposition="merge")
    pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.sqlalchemy(f"sqlite:///{db_path}"),
                            dataset_name="main", pipelines_dir=db_path + ".dlt")
    info = pipeline.run(resource)
    print(info)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
