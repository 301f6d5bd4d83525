"""Run the benchmarks of bench/ against one database and print a report.

Each ``bench/bench_*.py`` module defines ``run(registry, args) -> list[dict]``
(rows made with :func:`common.row`): it measures the addon's path and two
baselines for the same work in the same run, on the same database: Odoo's
batch path (one create / post / reconcile plan per chunk, what an ORM
developer writes) and Odoo's form path (what a user clicks, one item per
transaction); see bench/common.py.

Printed per row: seconds per item of ours, of the batch path and of the form
path, and each baseline's per-item time / ours ("vs batch", "vs form": above
1.0x ours is faster), then the row's notes.

Usage (``make bench`` does all of this on a fresh database)::

    python3 bench/run.py -c .odoo.conf -d recon_bench [--only spine,writeoff | --skip queue] [--quick]
"""
import argparse
import importlib
import json
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--only", help="run only bench_<ONLY>.py (several: --only spine,writeoff)")
    parser.add_argument("--skip", help="run all but bench_<SKIP>.py (several: --skip queue,spine)")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    args = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    # test mode once the registry is loaded: Odoo's path is driven through
    # odoo.tests.Form, which emulates the web client's onchanges
    odoo.tools.config["test_enable"] = True

    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only.split(",")]
    if args.skip:
        names = [n for n in names if n.removeprefix("bench_") not in args.skip.split(",")]
    if not names:
        sys.exit("no benchmark matches --only / --skip")
    rows = []
    print_header()
    for name in names:
        module = importlib.import_module(name)
        print(f"[bench] {name} ...", flush=True)
        for result in module.run(registry, args):
            result["bench"] = name
            rows.append(result)
            print_row(result)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(json.dumps(rows, indent=2))
    print(f"[bench] {len(rows)} measurements; machine: {os.cpu_count()} cores; "
          f"written to bench/results/latest.json")


def print_header():
    print(f"  {'':<48} {'n':>6} {'total s':>8}  {'s/item: ours':>12} {'batch':>8} {'form':>8}  "
          f"{'vs batch':>8} {'vs form':>8}", flush=True)


def print_row(r):
    def seconds(value):
        return f"{value:.4f}" if value else "-"

    def ratio(value):
        return f"{value:.1f}x" if value else "-"

    print(f"  {r['name'][:48]:<48} {r['n']:>6} {r['seconds']:>8.2f}  {seconds(r['per_item']):>12} "
          f"{seconds(r['batch_per_item']):>8} {seconds(r['form_per_item']):>8}  "
          f"{ratio(r['ratio_batch']):>8} {ratio(r['ratio_form']):>8}", flush=True)
    if r["notes"]:
        print(f"      {r['notes']}", flush=True)


if __name__ == "__main__":
    main()
