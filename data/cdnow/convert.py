"""Convert the CDNOW master file into topo events (JSON lines, gzipped).

    python data/cdnow/convert.py CDNOW_master.txt data/cdnow/events.jsonl.gz

(``CDNOW_master.txt`` comes with the PyPI package Lifetimes 0.11.3; see README.md here.)

One event per row: ``{"id", "member", "type": "purchase", "at", "amount", "cds"}``. The
customer id is the member; the event id is the member and the row's number among that member's
rows (``00001-1``); the date (day resolution, no time zone in the source) becomes midnight UTC.
The output is written with fixed gzip metadata, so converting the same file twice gives the same
bytes.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path


def convert(source: Path, target: Path) -> int:
    rows: Counter[str] = Counter()
    lines = []
    with source.open(encoding="ascii") as text:
        next(text)  # the header: customer_id date number_of_cds dollar_value
        for line in text:
            customer, day, cds, dollars = line.split()
            rows[customer] += 1
            event = {
                "id": f"{customer}-{rows[customer]}",
                "member": customer,
                "type": "purchase",
                "at": f"{day[:4]}-{day[4:6]}-{day[6:]}T00:00:00+00:00",
                "amount": float(dollars),
                "cds": int(cds),
            }
            lines.append(json.dumps(event, separators=(",", ":")) + "\n")
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write("".join(lines).encode("ascii"))
    return len(lines)


if __name__ == "__main__":
    count = convert(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{count:,} events written to {sys.argv[2]}")
