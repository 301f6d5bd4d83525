#!/usr/bin/env bash
# Prepare this machine for the addon: check that Odoo 18 is importable, make
# sure PostgreSQL is running and that the database role the project uses
# exists, and write the Odoo configuration file used by `make demo`,
# `make test` and `make bench`.
#
# Environment (all optional):
#   RECON_DB_USER / RECON_DB_PASSWORD   role Odoo connects with (recon / recon)
#   RECON_DB_HOST / RECON_DB_PORT       server address (localhost / 5432)
#   RECON_CONF                          configuration file to write (.odoo.conf)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
DB_USER=${RECON_DB_USER:-recon}
DB_PASSWORD=${RECON_DB_PASSWORD:-recon}
DB_HOST=${RECON_DB_HOST:-localhost}
DB_PORT=${RECON_DB_PORT:-5432}
CONF=${RECON_CONF:-$here/.odoo.conf}

say() { printf '[prepare] %s\n' "$*"; }

# 1. Odoo itself is a dependency, installed beforehand (see README).
if ! "$PYTHON" -c "import odoo.release as r; assert r.version_info[0] == 18" 2>/dev/null; then
    cat >&2 <<'MSG'
[prepare] Odoo 18.0 is not importable by this Python.
          Install Odoo 18.0 from its source first, as Odoo's documentation
          describes ("Install from source"):
              pip install -r <odoo-source>/requirements.txt
              pip install --no-build-isolation -e <odoo-source>
          then run this command again. See README.md, "Requirements".
MSG
    exit 3
fi

# 2. Python packages the tests and `make lint` need (declared in
#    requirements-dev.txt).
if ! "$PYTHON" -c "import pytest_odoo, websocket, hypothesis, importlib.util, sys
import ruff, pylint_odoo, oca_pre_commit_hooks
sys.exit(importlib.util.find_spec('odoo.addons.queue_job') is None)" 2>/dev/null; then
    say "installing the test and lint requirements (requirements-dev.txt)"
    "$PYTHON" -m pip install -q -r "$here/requirements-dev.txt"
fi

# 3. PostgreSQL running.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -c "$(printf '%q ' "$@")"
    else
        sudo -n -u postgres "$@"
    fi
}
if ! pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; then
    say "PostgreSQL is not answering on $DB_HOST:$DB_PORT; starting it"
    if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
        read -r ver name _ < <(pg_lsclusters -h | head -n 1)
        pg_ctlcluster "$ver" "$name" start || true
    elif command -v service >/dev/null 2>&1; then
        service postgresql start || true
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h "$DB_HOST" -p "$DB_PORT" && break
        sleep 1
    done
    if ! pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; then
        say "PostgreSQL did not start. Start it by hand (e.g. 'pg_ctlcluster 15 main start') and retry." >&2
        exit 4
    fi
fi

# 4. The project's own role (Odoo refuses to run as 'postgres').
if [ "$DB_HOST" = localhost ] || [ "$DB_HOST" = 127.0.0.1 ]; then
    exists=$(as_postgres psql -p "$DB_PORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'" || true)
    if [ "$exists" != 1 ]; then
        say "creating the database role '$DB_USER'"
        as_postgres psql -p "$DB_PORT" -q -c "CREATE ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
    fi
fi

# 5. Odoo configuration for this checkout.
addons_path=$("$PYTHON" - "$here" <<'PY'
import os, sys
import odoo
root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__)))
paths = [os.path.join(os.path.dirname(os.path.abspath(odoo.__file__)), "addons")]
if os.path.isdir(os.path.join(root, "addons")):
    paths.append(os.path.join(root, "addons"))
paths.append(sys.argv[1])
print(",".join(paths))
PY
)
cat > "$CONF" <<CFG
[options]
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = $DB_PASSWORD
addons_path = $addons_path
data_dir = $here/.odoo-data
list_db = True
log_level = warn
CFG
say "ready (configuration: $CONF)"
