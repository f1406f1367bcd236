"""Benchmark: the national path under load: N learners fetch and submit at once over ngshare.

Run as root, under the hub lock (it starts the stack the product starts and creates OS accounts):
    python -m tests.benchmarks.bench_exchange_load [--learners 50] [--rounds 1]

The stack is `course hub --exchange ngshare`'s (tests/hubtools.national_course): JupyterHub, the ngshare
service in its own environment with the patch layer, PostgreSQL for ngshare and the gradebook, learners as
hub users (accounts ``kamhub-l-*``), the mini course's ch01 released by the instructor. Each learner is a
thread holding their own hub token and sending, through the hub's proxy on loopback, exactly the requests
ngshare_exchange 0.5.3 sends: fetch is ``GET /assignment/<course>/<id>``; submit is ``GET .../<id>?list_only``
(its check of the notebooks' names) then ``POST /submission/<course>/<id>``. All learners start each phase
together (a barrier). Each submission carries an answers file naming its learner and round.

Then the instructor's own `course collect ch01` (nbgrader with ngshare_exchange) brings every learner's
latest submission into submitted/, and the count is checked there: a learner missing, with another's
answers, or listed twice by the service counts as lost or duplicated. Latencies are wall-clock per request
as the learner sees it; the load average is printed at start and end (the machine is shared).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.hubtools import NationalCourse, national_course

COURSE, ASSIGNMENT = "kam-cert", "ch01"


def hub_tokens(nc: NationalCourse, names: list[str]) -> dict[str, str]:
    """One hub token per learner, made as `jupyterhub token` makes it (JupyterHub's ORM, the hub's database)."""
    from jupyterhub import orm

    session = orm.new_session_factory(f"sqlite:///{Path(nc.settings.state) / 'jupyterhub.sqlite'}")()
    try:
        found = {}
        for name in names:
            user = orm.User.find(session, name)
            if user is None:
                raise SystemExit(f"{name} is not a hub user")
            found[name] = user.new_api_token(note="bench_exchange_load", expires_in=3600)
        return found
    finally:
        session.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(name: str, seconds: list[float]) -> str:
    ms = [1000 * s for s in seconds]
    return (f"| {name} | {len(ms)} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | {max(ms):.0f} | "
            f"{statistics.mean(ms):.0f} |")


def together(names: list[str], step: Callable[[str], float]) -> tuple[list[float], list[str]]:
    """Run ``step(name)`` for every learner at once (a barrier); its latencies and the failures."""
    barrier = threading.Barrier(len(names))
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(name: str) -> None:
        barrier.wait()
        try:
            took = step(name)
        except Exception as exc:  # counted and printed: a failed request is a finding, not a crash
            with lock:
                failures.append(f"{name}: {exc}")
            return
        with lock:
            latencies.append(took)

    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures


def answers_file(name: str, round_no: int) -> dict[str, Any]:
    return {"learner": name, "round": round_no, "answers": {"ch01-007": f"{name} 第{round_no}轮作答"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="fetch-and-submit rounds (each submits again)")
    parser.add_argument("--port", type=int, default=18700)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    tags = [f"{i:03d}" for i in range(1, args.learners + 1)]
    started = time.monotonic()
    with national_course("l", tags, port=args.port) as nc:
        print(f"stack up (hub, ngshare, PostgreSQL; {args.learners} accounts; ch01 released) in "
              f"{time.monotonic() - started:.0f} s")
        names = nc.settings.learners
        tokens = hub_tokens(nc, names)
        base = nc.settings.ngshare_url
        sessions = {n: requests.Session() for n in names}
        for n in names:
            sessions[n].headers["Authorization"] = f"token {tokens[n]}"
        released: dict[str, list[dict[str, str]]] = {}

        def fetch(name: str) -> float:
            t0 = time.monotonic()
            r = sessions[name].get(f"{base}/assignment/{COURSE}/{ASSIGNMENT}", timeout=120)
            took = time.monotonic() - t0
            body = r.json()
            if r.status_code != 200 or not body.get("success"):
                raise RuntimeError(f"fetch: HTTP {r.status_code} {body.get('message')}")
            released[name] = body["files"]
            return took

        round_no = 0

        def submit(name: str) -> float:
            files = [f for f in released[name] if f["path"].endswith(".ipynb")]
            mine = json.dumps(answers_file(name, round_no), ensure_ascii=False).encode("utf-8")
            files.append({"path": f"{ASSIGNMENT}.answers.json", "content": base64.b64encode(mine).decode("ascii")})
            t0 = time.monotonic()
            r = sessions[name].get(f"{base}/assignment/{COURSE}/{ASSIGNMENT}", params={"list_only": "true"},
                                   timeout=120)
            if r.status_code != 200:
                raise RuntimeError(f"submit (list): HTTP {r.status_code}")
            r = sessions[name].post(f"{base}/submission/{COURSE}/{ASSIGNMENT}",
                                    data={"user": name, "files": json.dumps(files)}, timeout=120)
            took = time.monotonic() - t0
            body = r.json()
            if r.status_code != 200 or not body.get("success"):
                raise RuntimeError(f"submit: HTTP {r.status_code} {body.get('message')}")
            return took

        fetched: list[float] = []
        submitted: list[float] = []
        failures: list[str] = []
        wall = time.monotonic()
        for round_no in range(1, args.rounds + 1):  # noqa: B007 - read by submit()
            got, bad = together(names, fetch)
            fetched += got
            failures += bad
            got, bad = together(names, submit)
            submitted += got
            failures += bad
        wall = time.monotonic() - wall

        # What the service recorded (as the instructor sees it), and what nbgrader's collect brought in.
        teacher = nc.hub_token(nc.settings.instructors[0])
        listed = requests.get(f"{base}/submissions/{COURSE}/{ASSIGNMENT}", timeout=120,
                              headers={"Authorization": f"token {teacher}"}).json()["submissions"]
        per_learner = {n: sum(1 for s in listed if s["student_id"] == n) for n in names}
        stamps = [(s["student_id"], s["timestamp"]) for s in listed]
        nc.instructor("collect", ASSIGNMENT)
        root = Path(nc.settings.root) / "submitted"
        lost, wrong = [], []
        for n in names:
            path = root / n / ASSIGNMENT / f"{ASSIGNMENT}.answers.json"
            if not path.is_file():
                lost.append(n)
            elif json.loads(path.read_text(encoding="utf-8")) != answers_file(n, args.rounds):
                wrong.append(n)
        duplicated = len(stamps) - len(set(stamps)) + sum(1 for c in per_learner.values() if c > args.rounds)
        missing_records = sum(1 for c in per_learner.values() if c < args.rounds)

        print(f"{args.learners} learners × {args.rounds} round(s) in {wall:.1f} s; failed requests: {len(failures)}")
        for line in failures[:10]:
            print(f"  {line}")
        print("| request | n | p50 (ms) | p95 (ms) | max (ms) | mean (ms) |")
        print("|---|---|---|---|---|---|")
        print(summary("fetch (GET assignment)", fetched))
        print(summary("submit (list + POST submission)", submitted))
        print(f"service records: {len(listed)} for {args.learners} learners × {args.rounds} round(s); "
              f"missing {missing_records}, duplicated {duplicated}")
        print(f"collected into submitted/: {args.learners - len(lost)}; lost {len(lost)}, "
              f"with another's or an older answer {len(wrong)}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
