"""Run the benchmarks of bench/ against one database and print a report.

Each ``bench/bench_*.py`` module defines ``run(registry, args) -> list[dict]``
(rows made with :func:`common.row`): it measures the addon's path and Odoo's
own path for the same work in the same run, on the same database.

Usage (``make bench`` does all of this on a fresh database)::

    python3 bench/run.py -c .odoo.conf -d recon_bench [--only spine] [--quick]
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
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
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
        names = [n for n in names if n == f"bench_{args.only}"]
    rows = []
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


def print_row(r):
    base = f"{r['baseline_per_item']:.4f} s" if r["baseline_per_item"] else "-"
    ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
    print(f"  {r['name']:<48} n={r['n']:>6}  total {r['seconds']:>8.2f} s  "
          f"per item {r['per_item']:.4f} s  Odoo's path {base:>10}  ratio {ratio:>7}  {r['notes']}",
          flush=True)


if __name__ == "__main__":
    main()
