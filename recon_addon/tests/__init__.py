from . import test_foundation
from . import test_ledger
from . import test_services_upload
from . import test_write_off
from . import test_bulk_write_off
