#!/usr/bin/env python3
"""Validate db/seed/dataset.json against db/seed/article.txt."""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RESOURCES = ["sources", "zones", "industries", "firms", "targets",
             "projects", "facilities", "services", "indicators"]
AREAS = {"economy", "daily-life", "urban-management"}


def main() -> int:
    article = (HERE / "article.txt").read_text(encoding="utf-8")
    raw = (HERE / "dataset.json").read_text(encoding="utf-8")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        print(f"FAIL: JSON does not parse: {e}")
        return 1

    errors = []
    if list(data.keys()) != RESOURCES:
        errors.append(f"top-level keys/order {list(data.keys())} != {RESOURCES}")

    ids = {}
    for res in RESOURCES:
        seen = set()
        for i, rec in enumerate(data.get(res, [])):
            rid = rec.get("id")
            where = f"{res}[{i}] ({rid})"
            if not isinstance(rid, str) or not SLUG.match(rid):
                errors.append(f"{where}: bad id")
            if rid in seen:
                errors.append(f"{where}: duplicate id")
            seen.add(rid)
            cits = rec.get("citations")
            if not cits:
                errors.append(f"{where}: no citations")
            for c in cits or []:
                q = c.get("quote")
                if not isinstance(q, str) or not q or q not in article:
                    errors.append(f"{where}: quote not in article: {q!r}")
        ids[res] = seen

    source_ids = ids["sources"]

    def ref(where, value, res, nullable=False):
        if value is None and nullable:
            return
        if value not in ids[res]:
            errors.append(f"{where}: unknown {res} id {value!r}")

    for res in RESOURCES:
        for i, rec in enumerate(data.get(res, [])):
            where = f"{res}[{i}] ({rec.get('id')})"
            for c in rec.get("citations") or []:
                if c.get("source") not in source_ids:
                    errors.append(f"{where}: unknown citation source {c.get('source')!r}")
            if "industries" in rec:
                for ind in rec["industries"]:
                    ref(where, ind, "industries")
            if res in ("firms", "indicators"):
                ref(where, rec.get("zone"), "zones", nullable=True)
            if res in ("projects", "facilities"):
                ref(where, rec.get("zone"), "zones")
            if res == "projects":
                ref(where, rec.get("firm"), "firms")
            if res == "targets":
                ref(where, rec.get("industry"), "industries", nullable=True)
            if res == "services" and rec.get("area") not in AREAS:
                errors.append(f"{where}: bad area {rec.get('area')!r}")

    if raw != json.dumps(data, indent=2, ensure_ascii=False) + "\n":
        errors.append("dataset.json is not pretty-printed with 2-space indentation")

    if errors:
        print("FAIL")
        for e in errors:
            print(" -", e)
        return 1
    nq = sum(len(r.get("citations", [])) for res in RESOURCES for r in data[res])
    print(f"OK: {nq} quotes verified")
    for res in RESOURCES:
        print(f"  {res}: {len(data[res])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
