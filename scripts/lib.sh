# Shared by the scripts: read the Odoo configuration written by prepare.sh.
# Expects CONF to be set.

# conf KEY: the value of KEY in $CONF
conf() { awk -F' = ' -v k="$1" '$1 == k {print $2}' "$CONF"; }

# drop_db NAME: drop a database with the project's role, if it exists
drop_db() {
    PGPASSWORD=$(conf db_password) dropdb --if-exists -h "$(conf db_host)" \
        -p "$(conf db_port)" -U "$(conf db_user)" "$1" || true
}
