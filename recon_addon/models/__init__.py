from . import recon_collection_status
from . import res_company
from . import res_config_settings
from . import account_chart_template
from . import account_move
from . import recon_ledger
from . import recon_write_off
