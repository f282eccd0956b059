"""Print, for each run file under a folder, whether it is complete: say so before anyone commits a PARTIAL run.

    python3 scripts/run_status.py RESULTS_DIR
"""

import json
import pathlib
import sys

for path in sorted(pathlib.Path(sys.argv[1]).rglob("run-*.json")):
    run = json.loads(path.read_text())
    section = run["mnist_bench"]
    failed = [entry["id"] for entry in section.get("failed", [])]
    print(f"{path.name}: complete={section['complete']} interrupted={section['interrupted']} "
          f"measured={len(run['benchmarks'])} failed={failed} wall_s={section.get('wall_s')}")
