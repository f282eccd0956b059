"""agreement.md from the repetitions run.sh appended here: per setting, the median of suite / loop over its
repetitions with the exact 95% interval of that median (order statistics, measure/stats.median_interval), and
whether the median is within 5%. Run from the repository root: python .../per-row/analyse.py"""

import json
import statistics
import sys
from math import exp, log
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))
from mnist_core.measure.stats import median_interval  # noqa: E402

HERE = Path(__file__).resolve().parent
ORDER = ["train-bs128-quick", "loader-bs128-quick", "train-bs2048-quick", "train-bs32-default", "train-bs128-default",
         "train-bs512-default", "train-bs2048-default", "loader-bs128-default"]
lines = ["# Suite ÷ whole epochs of the loop, per row (CPU, 2 workers, Fashion-MNIST)", "",
         "Made by `analyse.py` from the `.jsonl` files beside it (one line per repetition: one whole epoch of the loop, "
         "then the suite's own measurement of the same setting for as long, in one process).", "",
         "| row | profile | repetitions | loop samples/s (median) | suite samples/s (median) | suite ÷ loop, median [95%] | within 5% | load (1-min avg) |",
         "| --- | --- | ---: | ---: | ---: | --- | --- | --- |"]
for name in ORDER:
    path = HERE / f"{name}.jsonl"
    if not path.exists():
        continue
    reps = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    ratios = [rep["suite_over_loop"] for rep in reps]
    interval = median_interval([log(ratio) for ratio in ratios])
    centre, low, high = exp(interval.estimate), exp(interval.low), exp(interval.high)
    kind, batch, profile = name.split("-")
    loads = [rep["load"][0] for rep in reps]
    lines.append(f"| {kind} {batch} w2 | {profile} | {len(reps)} | {statistics.median(r['loop_samples_per_s'] for r in reps):,.0f} "
                 f"| {statistics.median(r['suite_samples_per_s'] for r in reps):,.0f} | {centre:.3f} [{low:.3f}, {high:.3f}] "
                 f"| {'yes' if abs(centre - 1) <= 0.05 else 'no'} | {min(loads):.1f}–{max(loads):.1f} |")
pooled = [json.loads(line)["suite_over_loop"] for name in ORDER if (HERE / f"{name}.jsonl").exists()
          for line in (HERE / f"{name}.jsonl").read_text().splitlines() if line.strip()]
interval = median_interval([log(ratio) for ratio in pooled])
lines.append(f"| all rows pooled | both | {len(pooled)} | | | {exp(interval.estimate):.3f} [{exp(interval.low):.3f}, "
             f"{exp(interval.high):.3f}] | {'yes' if exp(interval.low) >= 0.95 and exp(interval.high) <= 1.05 else 'no'} | |")
lines += ["", "\"within 5%\": the median within 5% of 1 (for the pooled row: its whole interval). A single repetition "
          "scatters by ±10–20% (the machine's two speeds last tens of seconds, a repetition about ten), so a row's "
          "interval is 10–30% wide at this count."]
(HERE / "agreement.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
