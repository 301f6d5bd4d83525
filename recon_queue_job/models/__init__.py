from . import recon_run_chunk
from . import recon_run_mixin
from . import recon_adjustment_run
from . import recon_runs
