from . import recon_deduction_resolve
