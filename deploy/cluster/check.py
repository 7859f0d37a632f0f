#!/usr/bin/env python3
"""The cluster's behaviour, checked from outside (run by check.sh; standard library only).

    check.py cluster FRONT NODE_URL...   spread, cross-instance refresh, the refresh race,
                                         logout everywhere within 1 s, account locks
    check.py snapshot FRONT FILE         accounts and sessions to find again later
    check.py verify FRONT FILE           ...every one of them still there

Each check prints `ok <name>` or `FAIL <name>: why`; the exit status is 1 if any failed.
"""

import http.client
import json
import secrets
import sys
import threading
import time
import urllib.parse

LOGIN = """mutation Login($input: LoginInput!) { login(input: $input) {
  accessToken refreshToken user { id } } }"""
REFRESH = """mutation Refresh($token: String) { refresh(refreshToken: $token) {
  accessToken refreshToken } }"""
LOGOUT = "mutation Logout($token: String) { logout(refreshToken: $token) }"
ME = "query Me { me { id username } }"
REGISTER = "mutation Register($input: RegisterInput!) { register(input: $input) { id } }"

FAILURES = []


def post(url, query, variables, token=None):
    """One request on a fresh connection: (data or None, error code or None, instance)."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        conn.request("POST", "/graphql", json.dumps({"query": query, "variables": variables}), headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
        instance = response.getheader("X-Latchkey-Instance")
    finally:
        conn.close()
    errors = answer.get("errors") or []
    if errors:
        return None, (errors[0].get("extensions") or {}).get("code"), instance
    return answer["data"], None, instance


def check(name, condition, why=""):
    if condition:
        print(f"ok {name}")
    else:
        print(f"FAIL {name}: {why}")
        FAILURES.append(name)


def new_user(url):
    username = "chk_" + secrets.token_hex(5)
    password = "Check-" + secrets.token_hex(12)
    _, code, _ = post(url, REGISTER, {"input": {"username": username, "password": password}})
    if code:
        raise SystemExit(f"check: cannot register through {url}: {code}")
    return username, password


def login(url, username, password):
    data, code, instance = post(url, LOGIN, {"input": {"username": username, "password": password}})
    return (data["login"] if data else None), code, instance


def cluster(front, nodes):
    # Logins through the balancer land on every instance.
    user, password = new_user(front)
    answered = [login(front, user, password)[2] for _ in range(3 * len(nodes))]
    check("logins through the balancer land on every instance",
          len(set(answered)) == len(nodes) and None not in answered, f"answered by {answered}")

    # A refresh token issued by one instance rotates on another; the new access token
    # works on a third.
    session, _, by = login(nodes[0], user, password)
    data, code, rotated_by = post(nodes[1], REFRESH, {"token": session["refreshToken"]})
    me, me_code, me_by = post(nodes[2], ME, {}, data["refresh"]["accessToken"] if data else None)
    check("a refresh token issued by one instance rotates on another",
          data is not None and me is not None and len({by, rotated_by, me_by}) == 3,
          f"issued by {by}, refresh {code} on {rotated_by}, me {me_code} on {me_by}")

    # 32 refreshes of one token at once, spread over the instances: one rotation wins.
    # Within the grace window every racer gets that one successor; a racer judged after
    # it would get REFRESH_TOKEN_REUSED or UNAUTHENTICATED.
    session, _, _ = login(front, user, password)
    barrier = threading.Barrier(32)
    results = [None] * 32

    def racer(i):
        barrier.wait()
        results[i] = post(nodes[i % len(nodes)], REFRESH, {"token": session["refreshToken"]})

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    successors = {r[0]["refresh"]["refreshToken"] for r in results if r and r[0]}
    refused = [r[1] for r in results if r and not r[0]]
    instances = {r[2] for r in results if r}
    check("32 concurrent refreshes of one token over the instances give one winner",
          len(successors) == 1 and set(refused) <= {"REFRESH_TOKEN_REUSED", "UNAUTHENTICATED"}
          and len(instances) == len(nodes),
          f"{len(successors)} distinct successors, refusals {refused}, instances {instances}")
    if successors:
        data, code, _ = post(nodes[1], REFRESH, {"token": successors.pop()})
        check("the race's successor token rotates again", data is not None, f"{code}")

    logout_is_heard(nodes, user, password,
                    "a logout through one instance stops the access token there at once "
                    "and on the others within 1 s")

    # Failed logins on different instances add up to one account lock.
    victim, victim_password = new_user(front)
    wrong = [login(nodes[i % len(nodes)], victim, "Wrong-password-1")[1] for i in range(5)]
    _, locked, _ = login(nodes[2], victim, victim_password)
    _, other, _ = login(nodes[2], user, password)
    check("account locks hold across instances",
          wrong == ["UNAUTHENTICATED"] * 5 and locked == "RATE_LIMITED" and other is None,
          f"wrong passwords {wrong}, then the right one {locked}, another account {other}")


def logout_is_heard(nodes, user, password, name):
    """A logout through one instance stops the access token on that instance at once, and
    on the others as soon as they hear it (PostgreSQL's notification; they may have the
    session cached): within a second."""
    session, _, _ = login(nodes[0], user, password)
    before = [post(n, ME, {}, session["accessToken"])[1] for n in nodes]
    data, code, _ = post(nodes[0], LOGOUT, {"token": session["refreshToken"]})
    here = post(nodes[0], ME, {}, session["accessToken"])[1]
    after, heard_ms = [], []
    for n in nodes[1:]:
        started = time.monotonic()
        answer = post(n, ME, {}, session["accessToken"])[1]
        while answer is None and time.monotonic() - started < 1.0:
            time.sleep(0.005)
            answer = post(n, ME, {}, session["accessToken"])[1]
        after.append(answer)
        heard_ms.append(round((time.monotonic() - started) * 1000, 1))
    refresh_after = post(nodes[2], REFRESH, {"token": session["refreshToken"]})[1]
    check(name,
          before == [None] * len(nodes) and data == {"logout": True} and here == "UNAUTHENTICATED"
          and after == ["UNAUTHENTICATED"] * (len(nodes) - 1) and refresh_after == "UNAUTHENTICATED",
          f"me before {before}, logout {data or code}, me there {here}, me elsewhere {after} "
          f"after {heard_ms} ms, refresh after {refresh_after}")
    print(f"   logout heard on the other instances after {heard_ms} ms")


def heard_again(front, nodes):
    """After the database came back: every instance listens again, so a logout is still
    heard everywhere within a second."""
    user, password = new_user(front)
    logout_is_heard(nodes, user, password,
                    "after the outage, a logout through one instance stops the access token "
                    "on the others within 1 s")


def snapshot(front, path):
    saved = []
    for _ in range(5):
        user, password = new_user(front)
        session, code, _ = login(front, user, password)
        if not session:
            raise SystemExit(f"check: snapshot login failed: {code}")
        saved.append({"username": user, "password": password, "refreshToken": session["refreshToken"]})
    with open(path, "w") as f:
        json.dump(saved, f)
    print(f"ok snapshot of {len(saved)} accounts and sessions")


def verify(front, path):
    with open(path) as f:
        saved = json.load(f)
    sessions = [post(front, REFRESH, {"token": s["refreshToken"]})[1] for s in saved]
    logins = [login(front, s["username"], s["password"])[1] for s in saved]
    check("every account and session from before the outage is still there",
          sessions == [None] * len(saved) and logins == [None] * len(saved),
          f"refresh {sessions}, login {logins}")


def scrape(node):
    """The sum of each series (labels kept) on one instance's /metrics."""
    parsed = urllib.parse.urlsplit(node)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        body = response.read().decode()
        kind = response.getheader("Content-Type") or ""
    finally:
        conn.close()
    if response.status != 200 or not kind.startswith("text/plain"):
        raise SystemExit(f"check: {node}/metrics answered {response.status} {kind}")
    series = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            series[name] = series.get(name, 0.0) + float(value)
    return series


def total(scrapes, prefix):
    return sum(v for s in scrapes for k, v in s.items() if k.startswith(prefix))


def metrics(front, nodes):
    # Every instance serves the Prometheus text; logins and refreshes through the
    # balancer (and a wrong password) move the counters summed over the instances.
    before = [scrape(n) for n in nodes]
    user, password = new_user(front)
    for _ in range(3 * len(nodes)):
        payload, _, _ = login(front, user, password)
        post(front, REFRESH, {"token": payload["refreshToken"]})
    login(front, user, "not-the-password")
    after = [scrape(n) for n in nodes]
    for series in ('latchkey_logins_total{outcome="success"}',
                   'latchkey_logins_total{outcome="failure"}',
                   'latchkey_refreshes_total{outcome="rotated"}',
                   'latchkey_graphql_requests_total'):
        moved = total(after, series) - total(before, series)
        check(f"metrics: {series} moved", moved > 0, f"moved by {moved}")
    for series in ("latchkey_db_pool_connections", "latchkey_password_hash_wait_seconds",
                   "latchkey_graphql_request_duration_seconds", "latchkey_outbox_depth"):
        check(f"metrics: every instance has {series}",
              all(any(k.startswith(series) for k in s) for s in after))


def main():
    command, front, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    {"cluster": lambda: cluster(front, rest),
     "snapshot": lambda: snapshot(front, rest[0]),
     "verify": lambda: verify(front, rest[0]),
     "metrics": lambda: metrics(front, rest),
     "heard": lambda: heard_again(front, rest)}[command]()
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
