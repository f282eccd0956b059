"""Regression checks on hand-made round lists and runs: the rank test, verdicts, keys, matching, rules, CLI."""

from __future__ import annotations

import copy
import itertools
import json
import random

import pytest

from mnist_core.core.config import BenchConfig
from mnist_core.errors import BaselineError, RunFileError
from mnist_core.regress import ranktest
from mnist_core.regress.baselines import BASELINE_SECTION, baseline_path, find_baseline, save_baseline
from mnist_core.regress.comparison import compare_runs
from mnist_core.regress.hardware_key import hardware_key, key_differences, key_slug
from mnist_core.regress.measured import CONFIG_FIELDS, run_benchmarks
from mnist_core.regress.rules import HOLDS, NOT_APPLICABLE, UNCLEAR, VIOLATED, check_rules
from mnist_core.regress.verdicts import IMPROVED, MISSING, NEW, REGRESSED, UNCHANGED, judge
from mnist_core.runs.runfile import write_json_atomic
from cli_helpers import assert_one_line_error, run_cli

FAST, SLOW = [100.0, 101.0, 102.0], [80.0, 81.0, 82.0]

MACHINE = {"gpu_name": None, "gpu_driver": None, "cuda_version": "12.8", "torch_version": "2.11.0+cu128",
           "cpu_model": "AMD EPYC 9654", "cpu_cores": 16, "cpu_cores_available": 16}


def config_row(kind="train", rounds=FAST, **fields) -> dict:
    spec = {"device": "cpu", "model": "mlp", "hidden_width": 32, "loader": "dataloader", "batch_size": 128,
            "num_workers": 2, "pin_memory": False, "non_blocking": False, "dataset": "mnist", **fields}
    return {"kind": kind, "samples_per_s_rounds": list(rounds), **spec}


def transfer_row(rounds, pinned, non_blocking, transfer="batch128") -> dict:
    return {"kind": "transfer", "device": "cuda", "transfer": transfer, "pin_memory": pinned,
            "non_blocking": non_blocking, "gb_s_rounds": list(rounds)}


def make_run(*rows, machine=None, profile="default", complete=True, dataset="mnist", failed=()) -> dict:
    benchmarks = [{"name": f"test_{index}", "group": row.get("kind"), "extra_info": row, "stats": {}}
                  for index, row in enumerate(rows)]
    return {"machine_info": {**MACHINE, **(machine or {})}, "benchmarks": benchmarks,
            "mnist_bench": {"format_version": 1, "profile": profile, "dataset": {"name": dataset},
                            "complete": complete, "failed": list(failed), "skipped": []}}


# the exact rank test --------------------------------------------------------------------------

def brute_force_p(xs, ys):
    """P(U >= observed) by enumerating which ranks the xs take (no ties)."""
    pooled = sorted(xs + ys)
    observed = ranktest.u_below(xs, ys)
    hits = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(xs)):
        others = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        total += 1
        hits += ranktest.u_below([pooled[i] for i in chosen], others) >= observed
    return hits / total


@pytest.mark.parametrize("n,m", [(3, 3), (3, 5), (4, 4), (5, 2), (1, 4), (6, 5)])
def test_rank_test_matches_brute_force(n, m):
    rng = random.Random(n * 10 + m)
    for _ in range(5):
        xs = [rng.uniform(0, 1) for _ in range(n)]
        ys = [rng.uniform(0.3, 1.3) for _ in range(m)]
        assert ranktest.p_below(xs, ys) == pytest.approx(brute_force_p(xs, ys))


def test_rank_test_three_rounds_each():
    assert sum(ranktest._counts(3, 3)) == 20
    assert ranktest.p_below([1, 2, 3], [4, 5, 6]) == pytest.approx(0.05)  # all below all: the smallest p
    assert ranktest.p_below([1, 2, 4], [3, 5, 6]) == pytest.approx(0.10)  # one pair out of order
    assert ranktest.p_below([1, 2, 5], [3, 4, 6]) == pytest.approx(0.20)  # two
    assert ranktest.p_below([4, 5, 6], [1, 2, 3]) == 1.0
    assert ranktest.smallest_p(2, 2) == pytest.approx(1 / 6)
    assert ranktest.p_below([1.0] * 3, [1.0] * 3) >= 0.5  # all tied: nothing to see


# verdicts -------------------------------------------------------------------------------------

def test_clear_drop_is_regressed():
    judgement = judge(FAST, SLOW)
    assert judgement.verdict == REGRESSED
    assert judgement.delta_pct == pytest.approx(81 / 101 * 100 - 100)
    assert judgement.p_value == pytest.approx(0.05)


def test_clear_gain_is_improved():
    assert judge(FAST, [125.0, 126.0, 127.0]).verdict == IMPROVED


def test_small_consistent_change_is_unchanged():
    judgement = judge([100.0] * 3, [95.0, 95.5, 96.0])
    assert judgement.verdict == UNCHANGED and judgement.note == "" and judgement.p_value is None


def test_drop_beyond_threshold_with_overlapping_rounds_is_noise():
    judgement = judge([100.0, 101.0, 60.0], [85.0, 86.0, 120.0])
    assert judgement.delta_pct < -10
    assert judgement.verdict == UNCHANGED and "noise" in judgement.note


def test_every_round_must_be_beyond_the_threshold_with_three_rounds():
    # Median -11%, every round slower, but one round only 9% below: not shown to be beyond 10%.
    assert judge([100.0] * 3, [85.0, 89.0, 91.0]).verdict == UNCHANGED
    assert judge([100.0] * 3, [85.0, 89.0, 89.5]).verdict == REGRESSED


def test_five_rounds_allow_one_overlapping_round():
    baseline = [100.0, 101.0, 102.0, 103.0, 104.0]  # lowered by 10%: 90.0 .. 93.6
    assert judge(baseline, [80.0, 81.0, 82.0, 83.0, 92.0]).verdict == REGRESSED  # p = 7/252
    assert judge(baseline, [80.0, 81.0, 82.0, 83.0, 95.0]).verdict == UNCHANGED  # p = 19/252


def test_two_rounds_can_never_call_a_change():
    judgement = judge([100.0, 100.0], [50.0, 51.0])
    assert judgement.verdict == UNCHANGED and "too few rounds" in judgement.note


def test_threshold_is_a_parameter():
    assert judge(FAST, SLOW, threshold_pct=25).verdict == UNCHANGED
    assert judge([100.0] * 3, [95.0, 95.5, 96.0], threshold_pct=0).verdict == REGRESSED
    with pytest.raises(ValueError):
        judge(FAST, SLOW, threshold_pct=100)


# hardware keys --------------------------------------------------------------------------------

def test_hardware_key_fields():
    run = make_run(config_row(), machine={"gpu_name": "NVIDIA H100 80GB HBM3", "gpu_driver": "570.133.20"})
    key = hardware_key(run)
    assert key == {"gpu": "NVIDIA H100 80GB HBM3", "driver_major": "570", "cuda": "12.8", "torch": "2.11",
                   "cpu": "AMD EPYC 9654", "cores": "16", "dataset": "mnist", "profile": "default"}
    assert key_slug(key) == "nvidia-h100-80gb-hbm3-drv570-cuda12-8-torch2-11-amd-epyc-9654-16c-mnist-default"
    assert key_slug(hardware_key(make_run(config_row()))).startswith("cpu-only-cuda12-8-torch2-11-")


def test_patch_versions_share_a_key_minor_versions_do_not():
    base = hardware_key(make_run(config_row()))
    assert hardware_key(make_run(config_row(), machine={"torch_version": "2.11.1"})) == base
    other = hardware_key(make_run(config_row(), machine={"torch_version": "2.12.0"}, profile="quick"))
    assert key_differences(base, other) == ["torch 2.11 vs 2.12", "profile default vs quick"]


# matching -------------------------------------------------------------------------------------

def test_config_fields_are_bench_config_key():
    config = BenchConfig(batch_size=512, num_workers=4, pin_memory=False, non_blocking=False)
    assert tuple(config.asdict()[name] for name in CONFIG_FIELDS) == config.key()


def test_matched_by_configuration_not_name_or_order():
    rows = [config_row(num_workers=0), config_row(num_workers=2), config_row(loader="resident", num_workers=0),
            config_row(kind="loader", num_workers=2)]
    baseline = make_run(*rows)
    current = make_run(*reversed([{**row, "samples_per_s_rounds": SLOW} if row["num_workers"] == 0 and
                                   row["loader"] == "dataloader" else row for row in rows]))
    for position, bench in enumerate(current["benchmarks"]):
        bench["name"] = f"renamed_{position}"
    comparison = compare_runs(baseline, current)
    verdicts = {row.measured.name: row.verdict for row in comparison.rows}
    assert verdicts == {"train cpu-mlp-dataloader-bs128-w0": REGRESSED, "train cpu-mlp-dataloader-bs128-w2": UNCHANGED,
                        "train cpu-mlp-resident-bs128": UNCHANGED, "loader cpu-mlp-dataloader-bs128-w2": UNCHANGED}


def test_new_missing_accuracy_and_transfer_rows():
    accuracy = {"kind": "accuracy", "samples_per_s": 5000.0, "rounds": 1, "device": "cpu"}
    baseline = make_run(config_row(batch_size=32), config_row(), accuracy, transfer_row([20.0, 20.5, 21.0], True, True))
    current = make_run(config_row(), config_row(batch_size=512), accuracy, transfer_row([15.0, 15.5, 16.0], True, True),
                       failed=[{"kind": "train", "config": config_row(batch_size=32), "reason": "OutOfMemoryError: x"}])
    comparison = compare_runs(baseline, current)
    by_name = {row.measured.name: row for row in comparison.rows}
    assert by_name["train cpu-mlp-dataloader-bs32-w2"].verdict == MISSING
    assert "OutOfMemoryError" in by_name["train cpu-mlp-dataloader-bs32-w2"].judgement.note
    assert by_name["train cpu-mlp-dataloader-bs512-w2"].verdict == NEW
    copy_row = by_name["transfer cuda-h2d-batch128-pinned-nb"]
    assert copy_row.measured.unit == "GB/s" and copy_row.verdict == REGRESSED
    assert comparison.not_compared == {"accuracy": 1}
    assert [row.measured.name for row in comparison.regressed] == ["transfer cuda-h2d-batch128-pinned-nb"]


def test_unusable_comparisons_raise_baseline_error():
    run = make_run(config_row())
    with pytest.raises(BaselineError, match="different hardware keys .*torch 2.11 vs 2.12.*--allow-hardware-mismatch"):
        compare_runs(run, make_run(config_row(), machine={"torch_version": "2.12.0"}))
    assert compare_runs(run, make_run(config_row(), machine={"torch_version": "2.12.0"}),
                        allow_hardware_mismatch=True).key_differences == ("torch 2.11 vs 2.12",)
    with pytest.raises(BaselineError, match="no benchmark configuration is in both"):
        compare_runs(run, make_run(config_row(batch_size=512)))
    with pytest.raises(RunFileError, match="two benchmarks measured"):
        run_benchmarks(make_run(config_row(), config_row()))


def test_partial_runs_are_compared_and_said_to_be_partial():
    comparison = compare_runs(make_run(config_row(), config_row(num_workers=0)), make_run(config_row(), complete=False))
    assert comparison.current_partial and not comparison.baseline_partial
    assert [row.judgement.note for row in comparison.rows if row.verdict == MISSING] == [
        "not run: the current run is partial"]


# setting rules --------------------------------------------------------------------------------

def rule(results, name):
    return next(result for result in results if result.rule == name)


def test_rules_on_a_cpu_run():
    run = make_run(config_row(kind="loader", num_workers=0, rounds=SLOW), config_row(kind="loader", num_workers=2),
                   config_row(kind="loader", loader="resident", num_workers=0, rounds=[1000.0, 1010.0, 1020.0]),
                   config_row(num_workers=2), config_row(loader="resident", num_workers=0, rounds=SLOW))
    results = check_rules(run)
    assert rule(results, "pinned-nb").outcome == NOT_APPLICABLE and "no CUDA" in rule(results, "pinned-nb").reason
    workers = rule(results, "workers")
    assert workers.outcome == HOLDS and len(workers.pairs) == 1
    resident = rule(results, "resident")
    assert resident.outcome == VIOLATED  # the train resident row is slower than the train dataloader row
    assert [pair.outcome for pair in resident.pairs] == [HOLDS, VIOLATED]
    assert resident.pairs[1].ratio == pytest.approx(81 / 101)


def test_resident_is_compared_with_the_fastest_dataloader_setting():
    run = make_run(config_row(loader="resident", num_workers=0, rounds=[110.0, 111.0, 112.0]),
                   config_row(num_workers=0, rounds=SLOW), config_row(num_workers=2, rounds=[130.0, 131.0, 132.0]))
    pair = rule(check_rules(run), "resident").pairs[0]
    assert pair.other.fields["num_workers"] == 2 and pair.outcome == VIOLATED


def test_pinned_non_blocking_rule_on_cuda_rows():
    cuda = dict(device="cuda", num_workers=2)
    run = make_run(config_row(pin_memory=True, non_blocking=True, rounds=[150.0, 151.0, 152.0], **cuda),
                   config_row(pin_memory=False, non_blocking=False, **cuda),
                   config_row(pin_memory=True, non_blocking=False, rounds=SLOW, **cuda),
                   config_row(pin_memory=True, non_blocking=True, batch_size=512, rounds=[100.0, 101.0, 103.0], **cuda),
                   config_row(pin_memory=False, non_blocking=False, batch_size=512, **cuda),
                   transfer_row([10.0, 10.5, 11.0], True, True), transfer_row([20.0, 20.5, 21.0], False, False))
    pinned = rule(check_rules(run), "pinned-nb")
    outcomes = {pair.favoured.name: pair.outcome for pair in pinned.pairs}
    assert outcomes == {"train cuda-mlp-dataloader-bs128-w2-pin-nb": HOLDS,
                        "train cuda-mlp-dataloader-bs512-w2-pin-nb": UNCLEAR,
                        "transfer cuda-h2d-batch128-pinned-nb": VIOLATED}
    assert pinned.outcome == VIOLATED


# baselines and the CLI on hand-made files -----------------------------------------------------

@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich tables unfolded, so their cells can be searched


def test_baseline_save_refuses_to_replace_without_force(tmp_path, capsys):
    run_path = write_json_atomic(tmp_path / "run-1.json", make_run(config_row()))
    code, out, err = run_cli(capsys, "baseline", "save", str(run_path), "--results-dir", str(tmp_path))
    assert code == 0, err
    saved = baseline_path(tmp_path, hardware_key(make_run(config_row())))
    assert saved.is_file() and str(saved.name) in out.replace("\n", "")
    stored = json.loads(saved.read_text())
    assert stored[BASELINE_SECTION]["source"] == str(run_path) and stored["benchmarks"]
    code, _, err = run_cli(capsys, "baseline", "save", str(run_path), "--results-dir", str(tmp_path))
    assert_one_line_error(code, err, "already exists", "--force")
    code, _, err = run_cli(capsys, "baseline", "save", "--force", "--results-dir", str(tmp_path))  # latest run
    assert code == 0, err
    code, out, _ = run_cli(capsys, "baseline", "show", "--results-dir", str(tmp_path))
    assert code == 0 and "AMD EPYC 9654" in out


def test_check_without_a_baseline_names_the_fix(tmp_path, capsys):
    run_path = write_json_atomic(tmp_path / "run-1.json", make_run(config_row()))
    code, _, err = run_cli(capsys, "check", str(run_path), "--results-dir", str(tmp_path))
    assert_one_line_error(code, err, "no baseline for this hardware", "mnist-bench baseline save")


def test_check_falls_back_to_the_closest_baseline_only_when_allowed(tmp_path):
    save_baseline(make_run(config_row(), machine={"torch_version": "2.10.0"}), "old", tmp_path)
    save_baseline(make_run(config_row(), machine={"torch_version": "2.9.0", "cpu_model": "x"}), "older", tmp_path)
    current = make_run(config_row())
    with pytest.raises(BaselineError):
        find_baseline(tmp_path, current)
    chosen = find_baseline(tmp_path, current, allow_hardware_mismatch=True)
    assert "torch2-10" in chosen.name


def test_compare_exit_codes_on_hand_made_runs(tmp_path, capsys):
    base = write_json_atomic(tmp_path / "base.json", make_run(config_row(), config_row(num_workers=0)))
    same = write_json_atomic(tmp_path / "same.json", make_run(config_row(), config_row(num_workers=0)))
    slow_run = make_run(config_row(rounds=SLOW), config_row(num_workers=0))
    slow = write_json_atomic(tmp_path / "slow.json", slow_run)
    code, out, _ = run_cli(capsys, "compare", str(base), str(same))
    assert code == 0 and "no regression" in out
    code, out, _ = run_cli(capsys, "compare", str(base), str(slow))
    assert code == 1 and "REGRESSION" in out and "regressed" in out
    code, _, _ = run_cli(capsys, "compare", str(base), str(slow), "--threshold", "25%")
    assert code == 0
    code, _, err = run_cli(capsys, "compare", str(base), str(slow), "--threshold", "150")
    assert_one_line_error(code, err, "--threshold")
    partial = copy.deepcopy(slow_run)
    partial["mnist_bench"]["complete"] = False
    code, out, _ = run_cli(capsys, "compare", str(base), str(write_json_atomic(tmp_path / "p.json", partial)))
    assert code == 1 and "PARTIAL" in out


def test_a_shift_of_every_benchmark_is_pointed_out():
    rows = [config_row(batch_size=size) for size in (32, 128, 512)]
    slower = [{**row, "samples_per_s_rounds": SLOW} for row in rows]
    comparison = compare_runs(make_run(*rows), make_run(*slower))
    assert comparison.shared_shift_pct() == pytest.approx(81 / 101 * 100 - 100)
    assert compare_runs(make_run(*rows), make_run(*slower[:2], rows[2])).shared_shift_pct() is None
