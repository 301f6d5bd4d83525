from . import account_move
from . import recon_number_block
from . import recon_run_chunk
from . import recon_run_mixin
from . import recon_adjustment_run
from . import recon_runs
