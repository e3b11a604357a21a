#!/usr/bin/env python3
"""Generates test/golden/wire.json: what the Python exporter writes to Redis.

It replays test/golden/wire-ops.json through the exporter's own RedisValue
(gunicorn-prometheus-exporter, imported from a checkout, never copied here)
against a throwaway redis-server it starts on a free port, then records every
key with its fields, its TTL state, and the time fields
(created_at, updated_at) reduced to their shape.

Usage (Debian: python3-redis):
  EXPORTER_SRC=/path/to/gunicorn-prometheus-exporter/src \
    /usr/bin/python3 scripts/gen_golden.py > test/golden/wire.json
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ["EXPORTER_SRC"])
# The exporter validates its whole config on first use; give it what it asks for.
os.environ.update({"PROMETHEUS_BIND_ADDRESS": "127.0.0.1", "PROMETHEUS_METRICS_PORT": "9091", "GUNICORN_WORKERS": "1",
                   "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp()})
import redis  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPS = json.load(open(os.path.join(HERE, "..", "test", "golden", "wire-ops.json")))
TIME_FIELDS = {"created_at", "updated_at"}
PY_FLOAT = re.compile(r"^-?\d+\.\d+(e[+-]\d+)?$|^-?\d(\.\d+)?e[+-]\d+$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis():
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", tempfile.mkdtemp()],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc, client
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def to_float(v):
    return float(v) if isinstance(v, str) else v


def replay(client, prefix):
    from gunicorn_prometheus_exporter.backend.core.values import RedisValue

    for s in OPS["series"]:
        names = [n for n, _ in s["labels"]]
        values = [v for _, v in s["labels"]]
        value = RedisValue(s["typ"], s["metric"], s["name"], names, values, s["help"], s["mode"],
                           redis_client=client, redis_key_prefix=prefix)
        for op, *args in s["ops"]:
            if op == "inc":
                value.inc(to_float(args[0]))
            elif op == "dec":
                value.inc(-to_float(args[0]))
            elif op == "set":
                value.set(to_float(args[0]), args[1])


def snapshot(client, prefix):
    keys = {}
    for key in sorted(client.scan_iter(match=prefix + ":*", count=1000)):
        # Fields as a map: Redis keeps insertion order only while a hash is a
        # listpack (values under 64 bytes), so order is not part of the format.
        fields = {}
        for f, v in client.hgetall(key).items():
            f, v = f.decode(), v.decode()
            if f in TIME_FIELDS:
                assert PY_FLOAT.match(v), (key, f, v)
                v = "<time>"
            fields[f] = v
        keys[key.decode()] = {"fields": fields, "ttl": "set" if client.ttl(key) > 0 else "none"}
    return keys


def main():
    os.getpid = lambda: OPS["pid"]  # the exporter names keys by os.getpid()
    proc, client = start_redis()
    try:
        out = {"generator": "scripts/gen_golden.py", "pid": OPS["pid"], "cases": {}}
        for name, env in (("ttl", {"REDIS_TTL_DISABLED": "false", "REDIS_TTL_SECONDS": "300"}),
                          ("no-ttl", {"REDIS_TTL_DISABLED": "true"})):
            os.environ.update(env)
            prefix = "golden:" + name
            replay(client, prefix)
            out["cases"][name] = {"prefix": prefix, "env": env, "keys": snapshot(client, prefix)}
        json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=True)
        sys.stdout.write("\n")
    finally:
        proc.terminate()
        proc.wait()


main()
