"""Regression checks: hardware keys, baselines, noise-aware verdicts between runs, and setting rules.

  hardware_key  what must match for two runs to be comparable, and the baseline's file name
  matching      one row's rounds matched across two runs, state with state (the machine's fast or slow speed)
  comparison    two runs side by side: a verdict per configuration, plus new, missing and unusable ones
  rules         setting rules inside one run (pinned + non_blocking, resident, num_workers)
  baselines     the store under results/baselines/ (the only module here that touches files)
  render        rich tables and summary lines

The verdicts' statistics live in mnist_core/measure (effect.py, stats.py). Everything but `baselines` is a pure
function of run data (typed runs as `runs.runfile.read_run` returns them).
"""
