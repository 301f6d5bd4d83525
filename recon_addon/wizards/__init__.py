from . import recon_adjustment_preview
