#!/usr/bin/env bash
# `make lint`: ruff on all the Python of the repository (ruff.toml), pylint
# with pylint-odoo and OCA's mandatory checks on the two addons (.pylintrc),
# and OCA's checks of the addons' data files (XML, CSV, manifest) and
# translations (PO). Exits non-zero on any finding; `make test` runs it first.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PYTHON=${PYTHON:-python3}
addons=(recon_addon recon_queue_job)

# The linters are in requirements-dev.txt, as the test requirements are.
if ! "$PYTHON" -c "import ruff, pylint_odoo, oca_pre_commit_hooks" 2>/dev/null; then
    echo "[lint] installing the lint requirements (requirements-dev.txt)"
    "$PYTHON" -m pip install -q -r "$here/requirements-dev.txt"
fi

failed=()
echo "[lint] ruff"
"$PYTHON" -m ruff check --no-fix . || failed+=(ruff)

echo "[lint] pylint-odoo on ${addons[*]}"
"$PYTHON" -m pylint --rcfile=.pylintrc "${addons[@]}" || failed+=(pylint-odoo)

echo "[lint] oca-checks-odoo-module on ${addons[*]}"
"$PYTHON" -m oca_pre_commit_hooks "${addons[@]}" || failed+=(oca-checks-odoo-module)

mapfile -t po_files < <(find "${addons[@]}" -path '*/i18n/*' \( -name '*.po' -o -name '*.pot' \) | sort)
if [ ${#po_files[@]} -gt 0 ]; then
    echo "[lint] oca-checks-po on ${#po_files[@]} translation files"
    # po-pretty-format is disabled, as in OCA's template: it is a formatter
    # (entries sorted by msgid, a msgstr equal to its msgid emptied), not a
    # check; the files keep the order of Odoo's own export.
    "$PYTHON" -m oca_pre_commit_hooks.cli_po --disable=po-pretty-format \
        "${po_files[@]}" || failed+=(oca-checks-po)
fi

if [ ${#failed[@]} -gt 0 ]; then
    echo "[lint] findings from: ${failed[*]}" >&2
    exit 1
fi
echo "[lint] no findings"
