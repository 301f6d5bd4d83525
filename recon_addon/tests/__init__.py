from . import test_foundation
from . import test_ledger
from . import test_services_schedules
from . import test_services_balances
from . import test_adjustment_rule
