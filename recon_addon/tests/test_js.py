from odoo.tests import HttpCase, tagged


def _hoot_error(message):
    """Which console errors fail the test (as in Odoo's own suite)."""
    return "[HOOT]" not in message or message == "[HOOT] test failed (see above for details)"


@tagged("post_install", "-at_install")
class TestRunProgressJs(HttpCase):
    """The web client's side of run progress, with a mocked server (Hoot):
    forms and lists of runs reload on a progress message, and the done
    notification opens the run."""

    def test_run_progress_views(self):
        self.browser_js(
            "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&filter=recon_addon",
            "", "", login="admin", timeout=600,
            success_signal="[HOOT] test suite succeeded", error_checker=_hoot_error,
        )
