from . import test_queue_adjustments
from . import test_queue_write_off
from . import test_queue_numbering
from . import test_queue_threshold
from . import test_queue_translations
