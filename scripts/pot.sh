#!/usr/bin/env bash
# `make pot`: the translation templates, exported by Odoo itself
# (--i18n-export) from a fresh database, which is dropped afterwards:
#   recon_addon/i18n/recon_addon.pot          recon_addon alone installed
#   recon_queue_job/i18n/recon_queue_job.pot  then the bridge on top of it
# No demo data, as in the database of `make test`, whose test of the
# template (recon_addon/tests/test_translations.py) exports it the same way.
# A template whose entries did not change is left as it is (Odoo writes the
# time of the export in its header), so running this twice changes nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
CONF=${RECON_CONF:-$here/.odoo.conf}
DB=${RECON_POT_DB:-recon_pot_$$}
bash scripts/prepare.sh

source scripts/lib.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/recon-pot-XXXXXX")
cleanup() { drop_db "$DB"; rm -rf "$work"; }
trap cleanup EXIT

# install MODULE: install MODULE (and what it depends on) in $DB
install() {
    "$PYTHON" -m odoo -c "$CONF" -d "$DB" -i "$1" --without-demo=all \
        --stop-after-init --no-http --log-level=warn
}

# export MODULE: write MODULE/i18n/MODULE.pot from $DB
export_pot() {
    local module=$1 target=$1/i18n/$1.pot
    local new=$work/$module.pot log=$work/$module.log
    # Odoo logs a file it cannot extract terms from, and goes on without it
    if ! "$PYTHON" -m odoo -c "$CONF" -d "$DB" --i18n-export="$new" --modules="$module" \
            --stop-after-init --no-http --log-level=warn >"$log" 2>&1 \
            || grep -q " ERROR " "$log"; then
        cat "$log" >&2
        echo "[pot] exporting the terms of $module failed: see the log above" >&2
        return 1
    fi
    mkdir -p "$(dirname "$target")"
    if [ -f "$target" ] && cmp -s <(without_dates "$target") <(without_dates "$new"); then
        echo "[pot] $target is up to date"
    else
        cp "$new" "$target"
        echo "[pot] $target written ($(grep -c '^msgid ' "$target") msgids, header included)"
    fi
}

# without_dates FILE: FILE without the header lines holding the export's time
without_dates() {
    grep -v -e '^"POT-Creation-Date: ' -e '^"PO-Revision-Date: ' "$1"
}

echo "[pot] installing recon_addon in a fresh database '$DB'"
install recon_addon
export_pot recon_addon
echo "[pot] installing recon_queue_job (with OCA's queue_job) in '$DB'"
install recon_queue_job
export_pot recon_queue_job
