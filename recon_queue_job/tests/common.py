def perform_jobs(case, trap):
    """Run the trapped jobs, and those they enqueue, as the job runner would
    (a graph's jobs in the order of their dependencies)."""
    rounds = 0
    while trap.enqueued_jobs:
        trap.perform_enqueued_jobs()
        rounds += 1
        case.assertLess(rounds, 10, "the jobs must come to an end")
