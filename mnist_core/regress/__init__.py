"""Regression checks: hardware keys, baselines, noise-aware verdicts and setting rules.

  hardware_key  what must match for two runs to be comparable, and the baseline file name
  measured      a run's comparable benchmarks, keyed by configuration, with per-round throughput
  ranktest      the exact one-sided Mann-Whitney U test (no scipy)
  verdicts      improved / unchanged / regressed for one benchmark, from two lists of rounds
  comparison    two runs side by side: a verdict per configuration, plus new and missing ones
  rules         setting rules inside one run (pinned + non_blocking, resident, num_workers)
  baselines     the store under results/baselines/ (the only module here that touches files)
  render        rich tables and summary lines

Everything but `baselines` is a pure function of run data (dicts as `runfile.load_run` returns them).
"""
