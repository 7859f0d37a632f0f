#!/usr/bin/env python3
"""Steady load through the balancer: `me`, `refresh` and `login`, from several users at
once, counting every request that did not succeed and every session lost.

Standard library only (python3 on any Debian). Each worker is one user with one HTTP/1.1
keep-alive connection to the balancer; it loops over seven `me`, two `refresh` and one
`login` until the stop file appears, then proves its session is still alive (a refresh
and a `me`). A refused refresh answered SERVICE_UNAVAILABLE keeps the old token, which
the next refresh presents again: if the failed attempt had in fact rotated it, the grace
window gives the same successor; a REFRESH_TOKEN_REUSED there would be a lost session.

    load.py URL --workers 8 --stop-file PATH --report report.json

The report (JSON): requests sent, succeeded, failed by kind (`unavailable` = a 503 or
SERVICE_UNAVAILABLE, `other`), the slowest failure, the last failure's time, sessions
lost, and which instances answered (the X-Latchkey-Instance header).
"""

import argparse
import http.client
import json
import os
import secrets
import threading
import time
import urllib.parse

LOGIN = """mutation Login($input: LoginInput!) { login(input: $input) {
  accessToken refreshToken user { id } } }"""
REFRESH = """mutation Refresh($token: String) { refresh(refreshToken: $token) {
  accessToken refreshToken } }"""
ME = "query Me { me { id } }"
REGISTER = """mutation Register($input: RegisterInput!) { register(input: $input) { id } }"""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = 0
        self.ok = 0
        self.failed = {"unavailable": 0, "other": 0}
        self.by_op = {}
        self.slowest_failure = 0.0
        self.first_failure = None
        self.last_failure = None
        self.lost_sessions = 0
        self.instances = {}
        self.samples = []

    def record(self, op, outcome, seconds, instance, detail=None):
        now = time.time()
        with self.lock:
            self.sent += 1
            if instance:
                self.instances[instance] = self.instances.get(instance, 0) + 1
            if outcome == "ok":
                self.ok += 1
                return
            self.failed[outcome] += 1
            key = f"{op}:{outcome}"
            self.by_op[key] = self.by_op.get(key, 0) + 1
            self.slowest_failure = max(self.slowest_failure, seconds)
            self.first_failure = self.first_failure or now
            self.last_failure = now
            if outcome == "other" and len(self.samples) < 10:
                self.samples.append({"op": op, "detail": detail})


class Client:
    """One keep-alive connection to the balancer, reopened when it breaks."""

    def __init__(self, url, stats):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.stats = stats
        self.conn = None

    def post(self, op, query, variables, token=None):
        body = json.dumps({"query": query, "variables": variables})
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        started = time.monotonic()
        instance = None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.request("POST", "/graphql", body, headers)
            response = self.conn.getresponse()
            raw = response.read()
            instance = response.getheader("X-Latchkey-Instance")
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            status = response.status
        except (OSError, http.client.HTTPException) as e:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            self.stats.record(op, "other", time.monotonic() - started, None, repr(e))
            return None, "other"
        elapsed = time.monotonic() - started
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if answer is None:
            outcome = "unavailable" if status == 503 else "other"
            self.stats.record(op, outcome, elapsed, instance, f"HTTP {status}: {raw[:200]!r}")
            return None, outcome
        errors = answer.get("errors") or []
        if not errors:
            self.stats.record(op, "ok", elapsed, instance)
            return answer["data"], "ok"
        code = (errors[0].get("extensions") or {}).get("code")
        outcome = "unavailable" if code == "SERVICE_UNAVAILABLE" else "other"
        self.stats.record(op, outcome, elapsed, instance, f"{code}: {errors[0].get('message')}")
        return None, code


def register(client, username, password):
    variables = {"input": {"username": username, "password": password}}
    data, outcome = client.post("register", REGISTER, variables)
    if outcome != "ok":
        raise SystemExit(f"load: could not register {username}: {outcome}")


def worker(url, stats, stop_file, index, ready, go):
    client = Client(url, stats)
    username = f"load{index}_{secrets.token_hex(4)}"
    password = "Load-" + secrets.token_hex(12)
    register(client, username, password)

    def login():
        data, outcome = client.post(
            "login", LOGIN, {"input": {"username": username, "password": password}}
        )
        return data["login"] if outcome == "ok" else None

    session = None
    while session is None:
        session = login()
    ready.release()
    go.wait()
    step = 0
    while not os.path.exists(stop_file):
        kind = step % 10
        step += 1
        if kind < 7:
            client.post("me", ME, {}, session["accessToken"])
        elif kind < 9:
            data, outcome = client.post("refresh", REFRESH, {"token": session["refreshToken"]})
            if outcome == "ok":
                session = data["refresh"]
            elif outcome in ("REFRESH_TOKEN_REUSED", "UNAUTHENTICATED"):
                with stats.lock:
                    stats.lost_sessions += 1
                session = login() or session
        else:
            fresh = login()
            if fresh is not None:
                session = fresh
        time.sleep(0.01)
    # The session this worker holds must have survived everything.
    data, outcome = client.post("refresh", REFRESH, {"token": session["refreshToken"]})
    alive = outcome == "ok"
    if alive:
        _, outcome = client.post("me", ME, {}, data["refresh"]["accessToken"])
        alive = outcome == "ok"
    if not alive:
        with stats.lock:
            stats.lost_sessions += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--ready-file", help="created once every worker has a session")
    parser.add_argument("--report", required=True)
    args = parser.parse_args()
    stats = Stats()
    ready = threading.Semaphore(0)
    go = threading.Event()
    threads = [
        threading.Thread(target=worker, args=(args.url, stats, args.stop_file, i, ready, go))
        for i in range(args.workers)
    ]
    for t in threads:
        t.start()
    for _ in threads:
        ready.acquire()
    # Setup requests (register, first login) are not part of the measured load.
    with stats.lock:
        stats.sent = stats.ok = 0
        stats.failed = {"unavailable": 0, "other": 0}
        stats.by_op, stats.samples = {}, []
        stats.first_failure = stats.last_failure = None
        stats.slowest_failure = 0.0
    started = time.time()
    go.set()
    if args.ready_file:
        open(args.ready_file, "w").close()
    for t in threads:
        t.join()
    report = {
        "seconds": round(time.time() - started, 1),
        "sent": stats.sent,
        "ok": stats.ok,
        "failed": sum(stats.failed.values()),
        "failed_by_kind": stats.failed,
        "failed_by_op": stats.by_op,
        "slowest_failure_seconds": round(stats.slowest_failure, 3),
        "first_failure_at": stats.first_failure,
        "last_failure_at": stats.last_failure,
        "lost_sessions": stats.lost_sessions,
        "instances": stats.instances,
        "samples": stats.samples,
    }
    with open(args.report, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
