"""The verification page in headless Chromium: does each code show its own status in Chinese, does the QR lead there?

`course certificate serve` runs the page (as the hub's certificates service does) on a register
with four certificates: one valid, one revoked, one expired, one suspended; a fifth code was never issued.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course.certification import register, store, verify_page
from tests.conftest import with_register
from tests.ports import free_port
from tests.test_certification_register import issue_one

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PREFIX = "/services/certificates/"
UNKNOWN = "AAAA-BBBB-CCCC-DDDD-EEEE"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, empty_register: Path) -> Iterator[dict[str, Any]]:
    root = with_register(tmp_path_factory.mktemp("site"), empty_register)
    today = dt.date.today()
    valid = issue_one(root, issue_date=today.isoformat(), valid_until=register.valid_until(today.isoformat(), 3))
    revoked = issue_one(root, learner="li.si", name="李四", issue_date=today.isoformat(),
                        valid_until=register.valid_until(today.isoformat(), 3))
    register.move(root, store.existing(store.course_url(root)), str(revoked["number"]), "revoke", "考试作弊", today)
    expired = issue_one(root, learner="wang.wu", name="王五", issue_date="2020-01-01", valid_until="2022-12-31")
    port = free_port()
    log = (root / "serve.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "course"), "certificate", "serve", "--root", str(root),
                               "--port", str(port), "--prefix", PREFIX], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}{PREFIX}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the verification page did not start; see {log.name}") from None
                time.sleep(0.2)
        # the page reads the register live: a certificate suspended after it started reads 已暂停
        suspended = issue_one(root, learner="zhao.liu", name="赵六", issue_date=today.isoformat(),
                              valid_until=register.valid_until(today.isoformat(), 3))
        register.move(root, store.existing(store.course_url(root)), str(suspended["number"]), "suspend", "资格复查中",
                      today)
        yield {"root": root, "url": url, "valid": valid, "revoked": revoked, "expired": expired,
               "suspended": suspended}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def page(site: dict[str, Any]) -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def shown(page: Any, url: str) -> tuple[str, str, str]:
    page.goto(url)
    detail = page.locator("#detail")
    return (page.locator("#status").inner_text(), page.locator("#explain").inner_text(),
            detail.inner_text() if detail.count() else "")


def test_a_valid_code_reads_valid_with_the_holder(site: dict[str, Any], page: Any) -> None:
    code = site["valid"]["code"]
    assert shown(page, f"{site['url']}?code={code}") == ("有效", "该证书真实有效。", "")
    table = page.locator("#certificate").inner_text()
    assert "张三丰" in table and "岗位技能三级（中级）" in table and "2026A-0001" in table


def test_a_revoked_code_says_revoked_with_date_and_reason(site: dict[str, Any], page: Any) -> None:
    assert shown(page, f"{site['url']}?code={site['revoked']['code']}") == (
        "已撤销", "该证书已被撤销，不再有效。", f"撤销日期：{dt.date.today().isoformat()}；原因：考试作弊")


def test_an_expired_code_says_expired_not_not_found(site: dict[str, Any], page: Any) -> None:
    assert shown(page, f"{site['url']}?code={site['expired']['code']}") == (
        "已过期", "该证书已超过有效期，不再有效。", "有效期已于 2022-12-31 届满")


def test_a_suspended_code_says_suspended_with_date_and_reason(site: dict[str, Any], page: Any) -> None:
    assert shown(page, f"{site['url']}?code={site['suspended']['code']}") == (
        "已暂停", "该证书已被暂停使用。", f"暂停自：{dt.date.today().isoformat()}；原因：资格复查中")


def test_an_unknown_code_reads_not_found(site: dict[str, Any], page: Any) -> None:
    assert shown(page, f"{site['url']}?code={UNKNOWN}") == (
        "未找到", "登记册中没有与该验证码对应的证书，请核对验证码。该证书可能是伪造的。", "")
    assert page.locator("#certificate").count() == 0


def test_a_code_typed_into_the_form_is_checked(site: dict[str, Any], page: Any) -> None:
    page.goto(site["url"])
    assert page.locator("#status").count() == 0
    page.fill("#code", str(site["valid"]["code"]).lower().replace("-", ""))
    page.click("button[type=submit]")
    page.wait_for_selector("#status")
    assert page.locator("#status").inner_text() == "有效"


def test_without_the_key_the_page_says_unavailable_and_shows_no_path(site: dict[str, Any], page: Any) -> None:
    secret = register.secret_path(site["root"])
    kept = secret.read_bytes()
    secret.unlink()
    try:
        status, explain, _ = shown(page, f"{site['url']}?code={site['valid']['code']}")
        body = page.locator("body").inner_text()
    finally:
        secret.write_bytes(kept)
        secret.chmod(0o600)
    assert (status, explain) == ("暂不可用", "核验服务暂时无法读取证书登记册，请稍后再试或联系认证办公室。")
    assert str(site["root"]) not in body and ".secret" not in body


def test_the_qr_code_on_the_certificate_leads_to_the_page_of_that_certificate(
        site: dict[str, Any], page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The certificate as `course certificate draw` draws it under the address set: does its QR code open the page
    of that certificate?"""
    import pypdfium2
    import zxingcpp
    from typer.testing import CliRunner

    from course.certification import audit
    from course.cli import app

    cert, root = site["valid"], site["root"]
    monkeypatch.setenv("COURSE_VERIFY_URL", site["url"])
    drawn = CliRunner().invoke(app, ["certificate", "draw", str(cert["number"]), "--root", str(root)])
    assert (drawn.exit_code, drawn.output) == (0, f"drew 1 certificate(s) linking to {site['url']}: 2026A-0001.pdf\n")
    image = pypdfium2.PdfDocument(register.pdf_path(root, str(cert["number"])))[0].render(scale=150 / 72).to_pil()
    [decoded] = [b.text for b in zxingcpp.read_barcodes(image)]
    assert decoded == f"{site['url']}?code={cert['code']}"
    assert shown(page, decoded)[0] == "有效"
    last = audit.entries(store.existing(store.course_url(root))).iloc[-1]
    assert (last["action"], last["subject"], last["after"]) == ("draw", "证书 2026A-0001",
                                                                f'{{"核验地址": "{site["url"]}"}}')


def test_a_holders_name_is_shown_as_text_never_as_markup() -> None:
    record = {"name": "<b>赵</b><script>alert(1)</script>", "level_title": "四级", "number": "R-0001",
              "round_id": "R", "issue_date": "2026-12-01", "valid_until": "2029-11-30", "renews": None}
    result = register.Verification("X", register.VALID, "", record, {"cause": "issue"})
    html = verify_page.PAGE.generate(**verify_page.page_values(result, "X", dt.date(2026, 12, 1))).decode()
    assert "&lt;b&gt;赵&lt;/b&gt;&lt;script&gt;" in html and "<script>" not in html


def test_the_page_forbids_scripts_and_framing() -> None:
    policy = verify_page.SECURITY_HEADERS["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
