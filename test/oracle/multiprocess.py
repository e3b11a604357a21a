#!/usr/bin/env python3
"""The reference: a scenario replayed through the real prometheus_client.

Reads a scenario (JSON on stdin), performs every worker's operations with
prometheus_client's own Counter/Gauge/Histogram/Summary in multiprocess mode
(mmap files, one process identifier per worker), calls mark_process_dead for
the dead workers, and prints what MultiProcessCollector + generate_latest
make of it. Run with Debian's /usr/bin/python3 (python3-prometheus-client).
"""
import json
import os
import sys
import tempfile

os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="redismp-oracle-")

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, generate_latest, values  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead  # noqa: E402

scenario = json.load(sys.stdin)


def build(spec):
    kw = dict(registry=None, labelnames=spec["labelnames"])
    if spec["kind"] == "counter":
        return Counter(spec["name"], spec["help"], **kw)
    if spec["kind"] == "gauge":
        return Gauge(spec["name"], spec["help"], multiprocess_mode=spec["mode"], **kw)
    if spec["kind"] == "histogram":
        return Histogram(spec["name"], spec["help"], buckets=[float(b) for b in spec["buckets"]], **kw)
    return Summary(spec["name"], spec["help"], **kw)


for worker in scenario["workers"]:
    # A fresh value class per worker: its own files, named by this pid.
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda pid=worker["pid"]: pid)
    metrics = [build(spec) for spec in scenario["metrics"]]
    for op in worker["ops"]:
        metric = metrics[op["metric"]]
        target = metric.labels(*op["labels"]) if op["labels"] is not None else metric
        if op["op"] != "touch":  # touch: the child exists (its file holds 0.0), nothing is written
            getattr(target, op["op"])(float(op["amount"]))

for pid in scenario["dead"]:
    mark_process_dead(pid)

registry = CollectorRegistry()
MultiProcessCollector(registry)
sys.stdout.write(generate_latest(registry).decode("utf-8"))
