# Shared by the scripts: read the Odoo configuration written by prepare.sh.
# Expects CONF to be set.

# conf KEY: the value of KEY in $CONF
conf() { awk -F' = ' -v k="$1" '$1 == k {print $2}' "$CONF"; }

# drop_db NAME: drop a database with the project's role, if it exists
drop_db() {
    PGPASSWORD=$(conf db_password) dropdb --if-exists -h "$(conf db_host)" \
        -p "$(conf db_port)" -U "$(conf db_user)" "$1" || true
}

# db_exists NAME: whether the database NAME exists
db_exists() {
    PGPASSWORD=$(conf db_password) psql -h "$(conf db_host)" -p "$(conf db_port)" \
        -U "$(conf db_user)" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1
}

# ensure_demo_db NAME: create the demo database NAME (the addon and its demo
# data) unless it exists; a failed install leaves no database behind.
# Expects PYTHON to be set.
ensure_demo_db() {
    db_exists "$1" && return 0
    echo "[demo] creating '$1' with recon_addon and its demo data (a few minutes)"
    if ! "$PYTHON" -m odoo -c "$CONF" -d "$1" -i recon_addon \
            --stop-after-init --no-http --log-level=warn; then
        drop_db "$1"
        echo "[demo] installing the addon failed; the database was removed. See the log above." >&2
        return 1
    fi
}

# free_port: a free local TCP port. Expects PYTHON to be set.
free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ensure_chromium: install Debian's chromium package when no Chromium is found
# (the browser tests and the screenshots drive it headless).
ensure_chromium() {
    command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 && return 0
    echo "[chromium] installing Chromium for the browser tests and screenshots"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi || { echo "[chromium] could not install Chromium: install the 'chromium' package and retry." >&2; return 5; }
}
