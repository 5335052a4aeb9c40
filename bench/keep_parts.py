#!/usr/bin/env python3
"""For `BENCH_PARTS=...`: drops from results.jsonl the lines of the parts about to be measured
again (and the bundle, always measured), keeps the rest, and notes which parts run now."""
import datetime
import json
import sys

path, parts = sys.argv[1], sys.argv[2].split()
# The keys each part's lines are known by (a stream scenario's line has "name" and "streams").
KEYS = {
    "pages": ("pages", "pages_renders"),
    "h2": ("h2",),
    "browser": ("browser", "tabs"),
    "checks": ("checks", "startup"),
    "history": ("history", "history_render"),
    "sigkill": ("sigkill",),
    "cluster": ("cluster", "cluster_path", "failover"),
    "notify": ("notify",),
}


def part_of(d):
    if "bundle" in d:
        return "bundle"
    if "rerun" in d:
        return "rerun"
    for part, keys in KEYS.items():
        if any(k in d for k in keys):
            return part
    return "streams"


kept, earlier = [], []
for line in open(path):
    if not line.strip():
        continue
    d = json.loads(line)
    p = part_of(d)
    if p == "rerun":
        earlier += [r for r in d["rerun"] if r["part"] not in parts]
    elif p not in parts and p != "bundle":
        kept.append(line.strip())
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
rerun = earlier + [{"part": p, "at": now} for p in parts]
with open(path, "w") as f:
    f.write("\n".join(kept + [json.dumps({"rerun": rerun})]) + "\n")
