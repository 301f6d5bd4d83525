from . import recon_reward_clear
from . import bulk_write_off
