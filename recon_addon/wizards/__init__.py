from . import recon_reward_clear
from . import bulk_write_off
from . import recon_deduction_resolve
from . import recon_adjustment_preview
from . import recon_undo_wizard
from . import recon_write_off_wizard
