#!/usr/bin/env python3
"""Summarises a callgrind dump as instructions per request.

    callgrind_top.py FILE REQUESTS TOP NAME

Runs `callgrind_annotate --inclusive=yes` on FILE and prints the total instructions per
request, then the TOP functions by inclusive cost (each with what it calls), skipping the
frames every request passes through (thread starts, the runtime's poll loops), which
would otherwise fill the list with 100% rows that say nothing.
"""

import re
import subprocess
import sys

# Frames that wrap everything: they carry the whole cost and name no work.
WRAPPERS = re.compile(
    r"__rust_begin_short_backtrace|std::thread|start_thread|clone3|call_once|"
    r"std::rt::|tokio::runtime::(scheduler|context|task|park|blocking)|"
    r"actix_rt::|actix_server::worker|LocalSet|Runtime::block_on|"
    r"core::ops::function|\?\?\?|0x[0-9a-f]+"
)


# What a request is made of, each named by the function whose inclusive cost is that
# part. Async functions count only what runs while they are polled; a query's execution
# in SQLite happens on sqlx's worker thread and is counted by the SQLite rows.
COST_CENTRES = [
    ("password check (argon2, on a hashing thread)", r"latchkey_api::auth::passwords::hasher::verify_blocking$"),
    ("the whole request on its HTTP worker (all of the below but SQLite)", r"actix_http::h1::dispatcher::Dispatcher<.*>::poll$"),
    ("  of which signing an access token (AccessTokens::mint)", r"latchkey_api::auth::tokens::access_tokens::AccessTokens::mint$"),
    ("GraphQL parse", r"async_graphql_parser::parse::executable::parse_query$"),
    ("GraphQL validation", r"async_graphql::validation::check_rules$"),
    ("access token check (AccessTokens::verify)", r"latchkey_api::auth::tokens::access_tokens::AccessTokens::verify$"),
    ("  of which the Ed25519 signature", r"jsonwebtoken::decoding::verify_signature$"),
    ("session check (Authenticator::live_session)", r"Authenticator::live_session::\{\{closure\}\}$"),
    ("personal token check (authenticate_personal_token)", r"authenticate_personal_token::\{\{closure\}\}$"),
    ("user fetch (Users::find)", r"latchkey_api::store::users::Users::find::\{\{closure\}\}$"),
    ("SQLite: running statements (sqlite3_step)", r"^sqlite3_step$"),
    ("SQLite: compiling statements (sqlite3Prepare)", r"^sqlite3Prepare$"),
    ("logging spans (tracing_subscriber)", r"tracing_subscriber::fmt::Subscriber<.*> as tracing_core::subscriber::Subscriber>::(new_span|enter|exit|try_close|event)$"),
]


def cost_centres(report: str) -> dict:
    """Inclusive cost per centre: the largest row whose function matches (one function
    shows up once per source file it was inlined from; the largest is the whole)."""
    found = {}  # (label, function) -> the largest row
    for line in report.splitlines():
        match = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*)", line)
        if not match or match.group(2).startswith("=>") or ":" not in match.group(2):
            continue
        function = match.group(2).split(":", 1)[1].rsplit(" [", 1)[0].strip()
        count = int(match.group(1).replace(",", ""))
        for label, pattern in COST_CENTRES:
            if re.search(pattern, function):
                found[(label, function)] = max(found.get((label, function), 0), count)
    # A centre naming several functions (the logging hooks) is their sum.
    totals = {}
    for (label, _), count in found.items():
        totals[label] = totals.get(label, 0) + count
    return totals


def main() -> None:
    path, requests, top, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    report = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    total = None
    rows = []
    for line in report.splitlines():
        match = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*)", line)
        if not match:
            continue
        count = int(match.group(1).replace(",", ""))
        what = match.group(2).strip()
        if what.startswith("PROGRAM TOTALS"):
            total = count
            continue
        if ":" not in what or WRAPPERS.search(what):
            continue
        # `file:function [object]` -> function
        function = what.split(":", 1)[1].rsplit(" [", 1)[0]
        rows.append((count, function))
    if not total:
        sys.exit(f"callgrind_top: no totals in {path}")
    print(f"\n{name}: {total / requests:,.0f} instructions per request ({requests} requests)\n")
    centres = cost_centres(report)
    print("| part of the request | instructions / request | share |")
    print("| --- | ---: | ---: |")
    for label, _ in COST_CENTRES:
        if label in centres:
            count = centres[label]
            print(f"| {label} | {count / requests:,.0f} | {100 * count / total:.1f}% |")
    print("\nLargest functions, inclusive:\n")
    print("| inclusive instructions / request | share | function |")
    print("| ---: | ---: | --- |")
    seen = set()
    for count, function in sorted(rows, reverse=True):
        short = function if len(function) <= 110 else function[:107] + "..."
        if short in seen:
            continue
        seen.add(short)
        print(f"| {count / requests:,.0f} | {100 * count / total:.1f}% | `{short}` |")
        if len(seen) >= top:
            break


if __name__ == "__main__":
    main()
