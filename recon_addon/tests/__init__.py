from . import test_foundation
from . import test_ledger
from . import test_services_thresholds
from . import test_deduction
from . import test_threshold_rule
from . import test_threshold_concurrency
