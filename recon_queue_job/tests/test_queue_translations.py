from odoo.tests import TransactionCase, tagged

from odoo.addons.recon_addon.tests.test_translations import check_template_is_current


@tagged("post_install", "-at_install")
class TestQueueTranslationTemplate(TransactionCase):
    """The bridge's template is what Odoo exports (make pot)."""

    def test_committed_template_is_current(self):
        check_template_is_current(self, "recon_queue_job")
