{
    "name": "Receivables Reconciliation on the Job Queue",
    "summary": "Spread the reconciliation runs over the job runner's workers (OCA queue_job)",
    "version": "18.0.1.1.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "recon_addon",
    "website": "https://github.com/recon-addon/recon_addon",
    "maintainers": ["recon-addon"],
    "development_status": "Beta",
    "depends": ["recon_addon", "queue_job"],
    "data": [
        "security/ir.model.access.csv",
        "security/ir_rules.xml",
        "data/queue_job_data.xml",
    ],
    "auto_install": True,
    "installable": True,
}
