from unittest.mock import patch


def perform_jobs(case, trap):
    """Run the trapped jobs, and those they enqueue, as the job runner would
    (a graph's jobs in the order of their dependencies)."""
    rounds = 0
    while trap.enqueued_jobs:
        trap.perform_enqueued_jobs()
        rounds += 1
        case.assertLess(rounds, 10, "the jobs must come to an end")


def share_the_test_transaction(cls):
    """A chunk reserves its entry numbers in a transaction of its own
    (``recon.number.block``, through ``registry.cursor()``); in a test that
    transaction is the test's own, as Odoo's HttpCase has its requests."""
    cls.registry.enter_test_mode(cls.cr)
    cls.addClassCleanup(cls.registry.leave_test_mode)


def small_chunks(case, size, *model_names):
    """Runs of ``model_names`` cut into chunks of ``size`` items for the test."""
    for model_name in model_names:
        patcher = patch.object(type(case.env[model_name]), "_run_chunk_size", size)
        patcher.start()
        case.addCleanup(patcher.stop)
