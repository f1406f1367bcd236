"""A paper sat in a timed sitting, from the learner's kernel: send each answer to the sittings service, show the time.

The service (``/services/sittings/`` on the hub) keeps the clock and records every answer with its
own time; this side only reports to it and shows what it says. Nothing here is trusted: a learner
who changes this code or the files in their home changes nothing the service recorded.

Answers go out from a background thread (a slow network never blocks a click), the latest per
question, retried until the service has them; the remaining time (剩余时间) counts down from the
end the service gave, corrected for the difference between the two clocks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

RETRY_SECONDS = 3.0
TIMEOUT_SECONDS = 5.0


def service_url() -> str | None:
    """The sittings service's API as the hub tells the learner's server (``KAM_SITTINGS_URL``), if any."""
    base = os.environ.get("KAM_SITTINGS_URL")
    return base.rstrip("/") + "/api/sittings" if base else None


def call(path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One request to the service with the hub token; None when it cannot be reached (retry later)."""
    base, token = service_url(), os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if base is None:
        return None
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(f"{base}/{path}".rstrip("/"), data=data, method="GET" if body is None else "POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            payload: dict[str, Any] = json.loads(response.read().decode("utf-8"))
            return payload
    except urllib.error.HTTPError as exc:  # the service answered: say what it said
        try:
            payload = json.loads(exc.read().decode("utf-8"))
        except ValueError:
            payload = {"message": "考试服务暂时不可用，请稍后重试。"}
        return {**payload, "state": "error", "code": exc.code}
    except (OSError, ValueError):
        return None


def remaining(status: dict[str, Any], received: dt.datetime, now: dt.datetime) -> int | None:
    """Seconds left: the service's remaining time, less what passed here since it said so. Pure."""
    left = status.get("remaining_seconds")
    if status.get("state") != "running" or left is None:
        return None
    return max(0, int(left - (now - received).total_seconds()))


def clock_text(seconds: int | None, status: dict[str, Any], unsent: int) -> str:
    """The line above the questions. Pure."""
    if seconds is None:
        text = status.get("message") or "正在连接考试服务……"
    elif seconds > 0:
        minutes, rest = divmod(seconds, 60)
        text = f"剩余时间：{minutes} 分 {rest:02d} 秒（答案自动保存并实时提交）"
    else:
        text = "考试时间已到：之后的作答不再计分。请回到“课程作业”页面查看。"
    if unsent:
        text += f"　【{unsent} 题答案尚未送达考试服务，正在重试，请勿关闭页面】"
    return text


class Sender:
    """Delivers the latest answer of each question to the service, in order, from one background thread."""

    def __init__(self, assignment: str, on_status: Callable[[dict[str, Any]], None]) -> None:
        self.assignment = assignment
        self.on_status = on_status
        self.pending: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        threading.Thread(target=self._run, daemon=True, name="kam-exam-sender").start()

    def put(self, qid: str, value: Any) -> None:
        with self.lock:
            self.pending[qid] = value
        self.wake.set()

    def unsent(self) -> int:
        with self.lock:
            return len(self.pending)

    def _run(self) -> None:
        while True:
            self.wake.wait(RETRY_SECONDS)
            self.wake.clear()
            with self.lock:
                batch = dict(self.pending)
            if not batch:
                continue
            reply = call(f"{self.assignment}/answers", {"answers": batch})
            if reply is None:
                continue  # unreachable: keep them, retry
            # Delivered, or refused for good (the service said why; retrying would not change it):
            # forget what did not change meanwhile.
            with self.lock:
                for qid, value in batch.items():
                    if self.pending.get(qid) == value:
                        del self.pending[qid]
            self.on_status(reply)
