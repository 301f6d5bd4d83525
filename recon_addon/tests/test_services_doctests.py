import doctest
import importlib
import pkgutil

from odoo.tests import BaseCase, tagged

from odoo.addons.recon_addon import services


@tagged("post_install", "-at_install")
class TestServicesDoctests(BaseCase):
    """The examples in the docstrings of every ``services`` module hold.

    The modules are found, not listed: a new service has its examples run
    as soon as it exists, and a service without examples fails here."""

    def test_every_services_module_has_examples_that_hold(self):
        names = sorted(info.name for info in pkgutil.iter_modules(services.__path__))
        self.assertIn("thresholds", names)
        for name in names:
            with self.subTest(module=name):
                module = importlib.import_module(f"{services.__name__}.{name}")
                failures, tried = doctest.testmod(module)
                self.assertEqual((failures, tried > 0), (0, True))
