from . import test_foundation
from . import test_ledger
from . import test_tours
from . import test_services_balances
from . import test_reward
from . import test_reward_clear
