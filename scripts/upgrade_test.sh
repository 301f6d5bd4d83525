#!/usr/bin/env bash
# `make upgrade-test [FROM=v18.0.x.y.z]`: install a released recon_addon (a
# git tag; by default the newest one older than this checkout's manifest)
# with its demo data, run its rules, then upgrade the database to this
# checkout with `-u recon_addon` and check that nothing was lost and that no
# stored computed field is stale (scripts/upgrade_check.py).
# RECON_UPGRADE_KEEP=1 keeps the database and the snapshot for a look.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
CONF=${RECON_CONF:-$here/.odoo.conf}
DB=${RECON_UPGRADE_DB:-recon_upgrade_$$}
bash scripts/prepare.sh
source scripts/lib.sh

version=$("$PYTHON" -c "import ast,sys; print(ast.literal_eval(open('recon_addon/__manifest__.py').read())['version'])")
from=${FROM:-}
if [ -z "$from" ]; then
    for tag in $(git tag --list 'v18.0.*' --sort=-version:refname); do
        [ "${tag#v}" != "$version" ] && { from=$tag; break; }
    done
fi
if [ -z "$from" ] || ! git rev-parse -q --verify "$from^{commit}" >/dev/null; then
    echo "[upgrade] no release tag to upgrade from (git tag --list 'v18.0.*' is empty?); fetch the tags: git fetch --tags" >&2
    exit 2
fi

old=$(mktemp -d "${TMPDIR:-/tmp}/recon-upgrade-XXXXXX")
OLD_CONF=$old/odoo.conf
snap=$old/before.json
cleanup() {
    if [ -n "${RECON_UPGRADE_KEEP:-}" ]; then
        echo "[upgrade] kept the database '$DB' and the snapshot $snap"
    else
        drop_db "$DB"; rm -rf "$old"
    fi
}
trap cleanup EXIT

echo "[upgrade] recon_addon $from -> this checkout ($version), database '$DB'"
git archive "$from" recon_addon | tar -x -C "$old"
# the released addon in place of this checkout's, everything else as configured
old_paths=$(conf addons_path | tr ',' '\n' | grep -vxF "$here" | paste -sd, -),$old
sed "s#^addons_path = .*#addons_path = $old_paths#" "$CONF" > "$OLD_CONF"

echo "[upgrade] installing $from with demo data"
"$PYTHON" -m odoo -c "$OLD_CONF" -d "$DB" -i recon_addon --stop-after-init --no-http --log-level=warn
echo "[upgrade] running $from's rules"
"$PYTHON" scripts/upgrade_check.py -c "$OLD_CONF" -d "$DB" exercise
"$PYTHON" scripts/upgrade_check.py -c "$OLD_CONF" -d "$DB" snapshot "$snap"

echo "[upgrade] odoo -u recon_addon with this checkout"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" -u recon_addon --stop-after-init --no-http --log-level=warn
"$PYTHON" scripts/upgrade_check.py -c "$CONF" -d "$DB" compare "$snap"
