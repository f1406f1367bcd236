"""The certificate verification page: a small web service the hub runs, reading the register live.

**Why a service, not static pages.** A certificate's status changes after it is printed: it
is suspended, revoked, or expires on a given day. A service reads the register at each request,
so a revocation shows the moment it is recorded and an expired certificate reads 过期 on the
first day after its validity, with no step for the office to forget; the secret stays on the
office's machine (a static page could only show what was checked when it was published, and
would need re-publishing after every change). It is one handler on tornado (which JupyterHub
and Jupyter Server already run on) and needs nothing the course folder does not have.

``course hub`` runs it as a JupyterHub service: the hub starts it and its proxy routes
``/services/certificates/`` to it, no login needed (anyone holding a certificate may check it).
Elsewhere: ``course certificate serve --root <course folder> --port 8010`` behind the office's
web server. The address on the certificates is ``COURSE_VERIFY_URL``
(:func:`course.certification.certificates.verify_base`).

The page shows the status in Chinese — 有效, 已暂停, 已撤销 (with date and reason), 已过期 (with the
last valid day), 未找到, 记录已被改动, or 暂不可用 when the register or the key is missing — and
the holder's name, level, certificate number and dates. It shows no file path or error text of
the system, runs no script, loads nothing from elsewhere, and every value is escaped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any

import tornado.web
from tornado.template import Template

from course.certification import register

HEADLINES = {
    register.VALID: ("有效", "ok"),
    register.SUSPENDED: ("已暂停", "warn"),
    register.REVOKED: ("已撤销", "bad"),
    register.EXPIRED: ("已过期", "warn"),
    register.NOT_FOUND: ("未找到", "bad"),
    register.ALTERED: ("记录已被改动", "bad"),
    register.UNAVAILABLE: ("暂不可用", "warn"),
}
EXPLAIN = {
    register.VALID: "该证书真实有效。",
    register.SUSPENDED: "该证书已被暂停使用。",
    register.REVOKED: "该证书已被撤销，不再有效。",
    register.EXPIRED: "该证书已超过有效期，不再有效。",
    register.NOT_FOUND: "登记册中没有与该验证码对应的证书，请核对验证码。该证书可能是伪造的。",
    register.ALTERED: "该证书在登记册中的记录与验证码不符，记录可能被篡改，请联系认证办公室。",
    register.UNAVAILABLE: "核验服务暂时无法读取证书登记册，请稍后再试或联系认证办公室。",
}

PAGE = Template("""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>证书核验</title>
<style>
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; max-width: 40em; margin: 2em auto;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } form { margin: 1.5em 0; } input { font-size: 1.1em; width: 16em; padding: .3em; }
button { font-size: 1.1em; padding: .3em 1em; }
#status { font-size: 1.8em; font-weight: bold; margin: .5em 0; }
.ok { color: #1e7b34; } .warn { color: #a86400; } .bad { color: #b0221b; }
table { border-collapse: collapse; margin-top: 1em; } td { padding: .3em .8em; border-bottom: 1px solid #ddd; }
</style></head>
<body>
<h1>岗位技能认证证书核验</h1>
<form method="get" action="">
  <label for="code">验证码</label>
  <input id="code" name="code" value="{{ code }}" placeholder="XXXX-XXXX-XXXX-XXXX-XXXX" autocomplete="off">
  <button type="submit">核验</button>
</form>
{% if result is not None %}
<section id="result">
  <div id="status" class="{{ css }}">{{ headline }}</div>
  <p id="explain">{{ explain }}</p>
  {% if detail %}<p id="detail">{{ detail }}</p>{% end %}
  {% if record is not None %}
  <table id="certificate">
    <tr><td>持证人</td><td>{{ record["name"] }}</td></tr>
    <tr><td>证书等级</td><td>{{ record["level_title"] }}</td></tr>
    <tr><td>证书编号</td><td>{{ record["number"] }}</td></tr>
    <tr><td>认证批次</td><td>{{ record["round_id"] }}</td></tr>
    <tr><td>颁发日期</td><td>{{ record["issue_date"] }}</td></tr>
    <tr><td>有效期至</td><td>{{ record["valid_until"] }}</td></tr>
    {% if record["renews"] %}<tr><td>复审换发自</td><td>{{ record["renews"] }}</td></tr>{% end %}
    {% for later in renewed_by %}<tr><td>已复审换发为</td><td>{{ later }}</td></tr>{% end %}
  </table>
  {% end %}
  <p>核验日期：{{ today }}</p>
</section>
{% end %}
</body></html>
""", autoescape="xhtml_escape")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page_values(result: register.Verification | None, code: str, today: dt.date) -> dict[str, Any]:
    """What the page shows for ``result`` (None: no code asked yet)."""
    values: dict[str, Any] = {"result": result, "code": code, "today": today.isoformat(), "record": None,
                              "detail": "", "renewed_by": [], "headline": "", "css": "", "explain": ""}
    if result is None:
        return values
    headline, css = HEADLINES[result.status]
    values.update(headline=headline, css=css, explain=EXPLAIN[result.status], renewed_by=result.renewed_by)
    if result.record is not None and result.status in (register.VALID, register.SUSPENDED, register.REVOKED,
                                                       register.EXPIRED):
        values["record"] = result.record
        event = result.event or {}
        if result.status == register.REVOKED:
            values["detail"] = f"撤销日期：{event.get('effective_date')}；原因：{event.get('reason')}"
        elif result.status == register.SUSPENDED:
            values["detail"] = f"暂停自：{event.get('effective_date')}；原因：{event.get('reason')}"
        elif result.status == register.EXPIRED:
            values["detail"] = f"有效期已于 {result.record['valid_until']} 届满"
    return values


class VerifyHandler(tornado.web.RequestHandler):
    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    def get(self) -> None:
        code = self.get_argument("code", "").strip()[:64]
        today = dt.date.today()
        result = register.verify(self.settings["course_root"], self.settings["db_url"], code, today) if code else None
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(PAGE.generate(**page_values(result, code, today)))


def make_app(root: Path, db_url: str, prefix: str = "/") -> tornado.web.Application:
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    return tornado.web.Application([(prefix, VerifyHandler), (prefix.rstrip("/") or "/", VerifyHandler)],
                                   course_root=root, db_url=db_url)


def serve(root: Path, db_url: str, port: int, prefix: str | None = None, address: str = "127.0.0.1") -> None:
    """Run the page until interrupted; under JupyterHub the prefix comes from ``JUPYTERHUB_SERVICE_PREFIX``."""
    prefix = prefix or os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")

    async def main() -> None:
        make_app(root, db_url, prefix).listen(port, address)
        await asyncio.Event().wait()

    asyncio.run(main())
