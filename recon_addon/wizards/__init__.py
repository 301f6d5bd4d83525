from . import recon_reward_clear
