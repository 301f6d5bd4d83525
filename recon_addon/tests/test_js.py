import re

from odoo.tests import HttpCase, tagged


def _hoot_error(message):
    """Which console errors fail the test (as in Odoo's own suite)."""
    return "[HOOT]" not in message or message == "[HOOT] test failed (see above for details)"


@tagged("post_install", "-at_install")
class TestRunProgressJs(HttpCase):
    """The web client's side of run progress, with a mocked server (Hoot):
    forms and lists of runs reload on a progress message, and the done
    notification opens the run."""

    URL = "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&filter=recon_addon"

    def _build_test_bundles(self):
        """Ask the server for the page's script bundles before the browser
        does: they are built once here, and a bundle the server cannot give
        fails the test with its address and status instead of an error
        inside the browser."""
        page = self.url_open(self.URL)
        self.assertEqual(page.status_code, 200)
        bundles = re.findall(r'<script[^>]+src="([^"]*/web/assets/[^"]+\.js)"', page.text)
        for name in ("web.assets_unit_tests_setup.", "web.assets_unit_tests."):
            self.assertTrue([url for url in bundles if name in url], f"The unit test page does not load {name}")
        for url in bundles:
            response = self.url_open(url, timeout=300)
            self.assertEqual(response.status_code, 200, f"{url} answered {response.status_code}")
            self.assertTrue(response.content, f"{url} is empty")

    def test_run_progress_views(self):
        self.authenticate("admin", "admin")
        self._build_test_bundles()
        self.browser_js(
            self.URL, "", "", login="admin", timeout=600,
            success_signal="[HOOT] test suite succeeded", error_checker=_hoot_error,
        )
