from . import bulk_write_off
