"""Screenshots of the README, taken from the demo database in headless Chromium.

Run by `make screenshots` (scripts/screenshots.sh), which serves the demo
database first. Each page of PAGES is opened in the web client as admin,
waited for until its view has rendered and nothing is loading, then saved as
a small PNG into docs/screenshots/<name>.png.

A page is one line of PAGES:

    Page(name, action, record=None, view=None, steps=(), wait=selector)

``action`` is the xmlid of a window action, ``record`` the xmlid of the record
to open in its form (``view`` a view type such as "pivot" instead), ``steps``
what to do on the page before the picture, in order:

    ("click", selector)         click the element (waits until it is there)
    ("upload", selector, path)  give the file field's input the file (path from the repository root)
    ("wait", selector)          wait until the element is there

and ``wait`` the element that shows the page is ready for its picture.
"""
import argparse
import base64
import functools
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import xmlrpc.client
from dataclasses import dataclass

import websocket
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIEWPORT = (1280, 800)
WIDTH = 960            # width of the saved image
COLORS = 256           # palette of the saved image
TIMEOUT = 60           # seconds to wait for anything


@dataclass(frozen=True)
class Page:
    name: str
    action: str
    record: str = None
    view: str = None
    steps: tuple = ()
    wait: str = ".o_action_manager .o_view_controller"


MODAL = ".modal .o_form_view"
PAGES = [
    # Deductions and the below-threshold rule
    Page("deduction_transaction", "recon_addon.recon_deduction_transaction_action",
         record="recon_addon.demo_transaction_t01", wait=".o_form_view .o_field_one2many .o_data_row"),
    Page("deduction_board", "recon_addon.recon_deduction_transaction_action", view="kanban",
         wait=".o_kanban_view .o_kanban_record"),
    Page("threshold_rule", "recon_addon.recon_threshold_rule_action",
         record="recon_addon.demo_threshold_rule",
         wait=".o_form_view .o_field_widget[name=amount_chart] svg"),
    Page("deductions_by_amount", "recon_addon.recon_threshold_rule_action",
         record="recon_addon.demo_threshold_rule",
         steps=(("click", ".o_form_view button[name=action_open_deduction_chart]"),),
         wait=".o_graph_view canvas"),
    Page("threshold_run", "recon_addon.recon_threshold_run_action",
         steps=(("click", ".o_list_view .o_data_row .o_data_cell"),
                ("click", ".o_form_view .o_notebook a[name=cleared]")),
         wait=".o_form_view .o_field_widget[name=deduction_line_ids] .o_data_row"),
    # Auto-adjustment rules
    Page("adjustment_rule", "recon_addon.recon_adjustment_rule_action",
         record="recon_addon.recon_adjustment_rule_monthly_fee",
         wait=".o_form_view .o_field_widget[name=domain] .o_domain_show_selection_button"),
    Page("adjustment_preview", "recon_addon.recon_adjustment_rule_action",
         record="recon_addon.recon_adjustment_rule_monthly_fee",
         steps=(("click", ".o_form_view button[name=action_preview]"),),
         wait=f"{MODAL} .o_field_widget[name=line_ids] .o_data_row"),
    # Bulk write-off
    Page("bulk_write_off_preview", "recon_addon.recon_write_off_batch_action",
         steps=(("click", "[data-menu-xmlid='recon_addon.recon_menu_collections']"),
                ("click", "[data-menu-xmlid='recon_addon.recon_menu_bulk_write_off']"),
                ("upload", f"{MODAL} .o_field_widget[name=file]",
                 "recon_addon/examples/recon_bulk_write_off_sample.csv"),
                ("wait", f"{MODAL} .o_field_widget[name=file] .o_clear_file_button"),
                ("click", ".modal button[name=action_preview]")),
         wait=f"{MODAL} .o_field_widget[name=line_ids] .o_data_row"),
    # Recoverable rewards
    Page("recoverable_balances", "recon_addon.recon_reward_balance_action",
         wait=".o_list_view .o_data_row"),
    Page("rewards_pivot", "recon_addon.recon_reward_action", view="pivot",
         wait=".o_pivot_view .o_pivot table"),
    Page("clear_balance", "recon_addon.recon_reward_balance_action",
         steps=(("click", ".o_list_view .o_data_row .o_list_record_selector input"),
                ("click", "button[name=action_clear_recoverable_balance]")),
         wait=f"{MODAL} .o_field_widget[name=line_ids] .o_data_row"),
    # Controls: undo, reasons, approval limits
    Page("undo_wizard", "recon_addon.recon_write_off_action",
         steps=(("click", ".o_list_view .o_data_row:not(.text-muted) .o_data_cell"),
                ("click", ".o_form_view button[name=action_undo]")),
         wait=f"{MODAL} .o_field_widget[name=reason]"),
    Page("write_off_reasons", "recon_addon.recon_write_off_reason_action", wait=".o_list_view .o_data_row"),
    Page("approval_limits", "base.action_res_users", record="base.user_admin",
         steps=(("click", ".o_form_view .o_notebook a[name=recon_approval]"),),
         wait=".o_form_view .o_field_widget[name=recon_write_off_limit]"),
]

# Nothing that moves or blinks: no caret, no transitions, no scrollbars.
STILL_CSS = """
*, *::before, *::after { caret-color: transparent !important; transition: none !important;
    animation: none !important; scrollbar-width: none !important; }
"""
# The web client is ready when the element is there, visible, nothing is
# loading or blocking the screen, and no chart is still drawing its bars.
READY_JS = """
(selector) => {
    const el = document.querySelector(selector);
    if (!el || !el.getClientRects().length) return false;
    if (document.querySelector('.o_loading_indicator, .o_blockUI')) return false;
    if (document.body.classList.contains('o_ui_blocked')) return false;
    if (window.Chart) {
        for (const canvas of document.querySelectorAll('canvas')) {
            const chart = Chart.getChart(canvas);
            if (chart && Chart.animator.running(chart)) return false;
        }
    }
    return document.readyState === 'complete' && document.fonts.status === 'loaded';
}
"""


def log(message):
    print(f"[screenshots] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(predicate, what, timeout=TIMEOUT):
    """Poll ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout}s")
        time.sleep(0.1)


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200 and response.read()
    except OSError:
        return False


class Chrome:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self):
        binary = next(filter(None, map(shutil.which, ("chromium", "google-chrome", "chromium-browser"))), None)
        if not binary:
            sys.exit("[screenshots] Chromium is needed: install the 'chromium' package.")
        self.profile = tempfile.mkdtemp(prefix="recon-shots-chrome-")
        port = free_port()
        self.process = subprocess.Popen([
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-extensions", "--no-first-run", "--no-default-browser-check",
            "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-US",
            f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", f"--user-data-dir={self.profile}",
            "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={port}", "about:blank",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ws = None
        try:
            pages = until(lambda: self._targets(port), "Chromium's DevTools")
            self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=TIMEOUT,
                                                  suppress_origin=True)
        except Exception:
            self.close()
            raise
        self.ids = 0
        self.send("Page.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=VIEWPORT[0], height=VIEWPORT[1],
                  deviceScaleFactor=1, mobile=False)
        self.send("Emulation.setTimezoneOverride", timezoneId="UTC")

    @staticmethod
    def _targets(port):
        body = http_ok(f"http://127.0.0.1:{port}/json/list")
        return body and [t for t in json.loads(body) if t["type"] == "page"]

    def send(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("exception", {}).get("description", expression))
        return result["result"].get("value")

    def call(self, function, *args):
        return self.evaluate(f"({function})(...{json.dumps(args)})")

    def goto(self, url):
        # the mark is gone once the new document is there
        self.evaluate("window.reconLeaving = true")
        self.send("Page.navigate", url=url)
        until(lambda: self.evaluate("!window.reconLeaving && document.readyState === 'complete'"),
              f"{url} to load")

    def ready(self, selector):
        until(lambda: self.call(READY_JS, selector), f"'{selector}'")

    def click(self, selector):
        self.ready(selector)
        self.call("(s) => document.querySelector(s).click()", selector)

    def upload(self, selector, path):
        self.ready(selector)
        document = self.send("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=document, selector=f"{selector} input[type=file]")["nodeId"]
        if not node:
            raise RuntimeError(f"no file input in '{selector}'")
        self.send("DOM.setFileInputFiles", nodeId=node, files=[os.path.join(ROOT, path)])

    def screenshot(self):
        # two frames, so what is ready is also painted
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])

    def close(self):
        if self.ws:
            try:
                self.send("Browser.close")
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


@functools.cache
def login_uid(url, db, login, password):
    """The user id of ``login`` (one authentication per run of the script)."""
    uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(db, login, password, {})
    if not uid:
        raise RuntimeError(f"cannot log in to {db} as {login}: is it the demo database?")
    return uid


def record_id(url, db, login, password, xmlid):
    uid = login_uid(url, db, login, password)
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object")
    module, name = xmlid.split(".", 1)
    rows = models.execute_kw(db, uid, password, "ir.model.data", "search_read",
                             [[("module", "=", module), ("name", "=", name)]], {"fields": ["res_id"]})
    if not rows:
        raise RuntimeError(f"no record {xmlid} in {db}: is it the demo database?")
    return rows[0]["res_id"]


def page_url(url, db, page):
    path = f"{url}/qplexity/action-{page.action}"
    if page.record:
        path += f"/{record_id(url, db, 'admin', 'admin', page.record)}"
    if page.view:
        path += f"?view_type={page.view}"
    return path


def save(png, path):
    """Downscale to WIDTH, reduce to a palette, and write an optimized PNG."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    height = round(image.height * WIDTH / image.width)
    image = image.resize((WIDTH, height), Image.LANCZOS)
    image = image.quantize(colors=COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, format="PNG", optimize=True)
    return os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True, help="the served demo database, e.g. http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "screenshots"))
    parser.add_argument("--only", nargs="*", help="names of the pages to take")
    args = parser.parse_args()

    until(lambda: http_ok(f"{args.url}/web/health"), "Odoo to answer")
    os.makedirs(args.out, exist_ok=True)
    pages = [p for p in PAGES if not args.only or p.name in args.only]
    unknown = set(args.only or ()) - {p.name for p in PAGES}
    if unknown:
        parser.error(f"no page named {', '.join(sorted(unknown))}; pages: {', '.join(p.name for p in PAGES)}")
    chrome = Chrome()
    try:
        chrome.goto(f"{args.url}/web/login?db={args.db}")
        chrome.ready("input[name=login]")
        chrome.evaluate("""
            document.querySelector('input[name=login]').value = 'admin';
            document.querySelector('input[name=password]').value = 'admin';
            document.querySelector('form.oe_login_form').submit();
        """)
        until(lambda: chrome.evaluate("location.pathname.startsWith('/qplexity')"), "the login")
        for page in pages:
            chrome.goto(page_url(args.url, args.db, page))
            chrome.ready(".o_action_manager .o_view_controller")
            chrome.call("(css) => document.head.appendChild(Object.assign("
                        "document.createElement('style'), {textContent: css}))", STILL_CSS)
            for verb, selector, *rest in page.steps:
                if verb == "click":
                    chrome.click(selector)
                elif verb == "upload":
                    chrome.upload(selector, *rest)
                elif verb == "wait":
                    chrome.ready(selector)
                else:
                    raise ValueError(f"page {page.name}: unknown step {verb!r}")
            chrome.ready(page.wait)
            chrome.evaluate("document.activeElement && document.activeElement.blur()")
            size = save(chrome.screenshot(), os.path.join(args.out, f"{page.name}.png"))
            log(f"{page.name}.png ({size // 1024} KB)")
    finally:
        chrome.close()


if __name__ == "__main__":
    main()
