"""Damaged or hand-edited run files, OS errors and bugs at the CLI: one line on stderr, the right exit code.

2 for input the user can fix (a run file of the wrong shape, a path that cannot be used), 3 for an internal
error, never 1 (which `compare` and `check` keep for "regression found"), no traceback unless --debug, and
nothing already saved is touched. The runs are hand-made (tests/report_data.py): no benchmark session needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnist_core.commands.cli import EXIT_INTERNAL, main
from mnist_core.core.config import KEY_FIELDS
from mnist_core.measure.copy_sizes import transfer_name
from mnist_core.measure.profiles import transfer_label
from mnist_core.measure.transfer import build_transfer
from mnist_core.regress.baselines import baseline_path, save_baseline
from mnist_core.regress.comparison import MISSING, compare_runs
from mnist_core.regress.hardware_key import hardware_key
from mnist_core.runs.files import write_json_atomic
from mnist_core.runs.rows import PHYSICAL_MAX, REQUIRED_KEYS, SINCE_FORMAT_2, TransferRow
from mnist_core.runs.runfile import FORMAT_VERSION, SECTION, load_run, read_run, typed_run
from cli_helpers import assert_one_line_error, run_cli
from report_data import gpu_run, throughput_bench, transfer_bench

REMEDY = "re-run the benchmarks"
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich tables unfolded, so their cells can be searched


def accuracy_bench(reached: bool = True) -> dict:
    """A time-to-accuracy row as bench_accuracy.py stores it: the configuration plus target, outcome and time."""
    bench = throughput_bench("train", "cpu", "dataloader", 128, 12_500)
    config = {name: bench["extra_info"][name] for name in (*KEY_FIELDS, "dataset", "seed", "lr")}
    info = {"kind": "accuracy", **config, "reference": False, "tutorial_setting": True, "target_accuracy": 0.84,
            "reached": reached, "epochs": 2, "seconds_to_target": 3.5 if reached else None, "seconds": 3.5,
            "train_seconds": 3.0, "val_accuracy": 0.85 if reached else 0.80, "val_accuracy_by_epoch": [0.8, 0.85],
            "train_samples": 100_000, "samples_per_s": 100_000 / 3.0, "rounds": 1}
    return {"name": "test_time_to_accuracy[cpu-mlp-dataloader-bs128-w2]", "group": "accuracy", "extra_info": info,
            "stats": {"rounds": 1}}


def overhead_bench() -> dict:
    """An overhead row as bench_overhead.py stores it: the suite's rounds paired with a bare loop's."""
    bench = throughput_bench("train", "cpu", "resident", 128, 170_000)
    bench["name"], bench["group"] = "test_suite_overhead[cpu-mlp-resident-bs128]", "overhead"
    rounds = bench["extra_info"]["samples_per_s_rounds"]
    bench["extra_info"].update(kind="overhead", reference=False, yardstick="bare loop",
                               yardstick_rounds=[value * 1.01 for value in rounds], overhead_pct=1.0,
                               overhead_limit_pct=3.0, overhead_verdict="same")
    return bench


def good_run() -> dict:
    """Every kind of row a session writes: train, loader, transfer (report_data), accuracy and overhead."""
    run = gpu_run()
    not_reached = accuracy_bench(reached=False)
    not_reached["extra_info"].update(loader="resident", num_workers=0)
    not_reached["name"] = "test_time_to_accuracy[cpu-mlp-resident-bs128]"
    run["benchmarks"] += [accuracy_bench(), not_reached, overhead_bench()]
    return run


def another_session(run: dict) -> dict:
    """The same numbers as if saved by another session (a minute later): not the same run."""
    return {**run, "datetime": "2026-11-20T10:01:00+00:00"}


def index_of(run: dict, kind: str) -> int:
    return next(i for i, bench in enumerate(run["benchmarks"]) if bench["extra_info"]["kind"] == kind)


def edited(change) -> dict:
    run = good_run()
    change(run)
    return run


def _set_row(kind: str, key: str, value):
    def change(run):
        run["benchmarks"][index_of(run, kind)]["extra_info"][key] = value
    return change


def _drop_row_key(kind: str, key: str):
    def change(run):
        del run["benchmarks"][index_of(run, kind)]["extra_info"][key]
    return change


# name -> (edit of a good run, what the one line must say)
BAD_RUNS = {
    "benchmarks-not-objects": (lambda run: run.update(benchmarks=[1, 2]), "benchmark 1 is 1 (an integer), not an object"),
    "machine-info-null": (lambda run: run.update(machine_info=None), "'machine_info' is null, not an object"),
    "gpu-name-number": (lambda run: run["machine_info"].update(gpu_name=100),
                        "'machine_info.gpu_name' is 100 (an integer), not a string or null"),
    "skipped-null": (lambda run: run[SECTION].update(skipped=None), "'mnist_bench.skipped' is null, not a list"),
    "failed-not-a-list": (lambda run: run[SECTION].update(failed={"id": "x"}),
                          "'mnist_bench.failed' is an object, not a list"),
    "failed-entry-string": (lambda run: run[SECTION].update(failed=["boom"]),
                            "'mnist_bench.failed' entry 1 is 'boom' (a string), not an object"),
    "skipped-config-string": (lambda run: run[SECTION].update(skipped=[{"id": "x", "kind": "train", "config": "bs128"}]),
                              "'mnist_bench.skipped' entry 1's config is 'bs128' (a string), not an object or null"),
    "dataset-string": (lambda run: run[SECTION].update(dataset="mnist"),
                       "'mnist_bench.dataset' is 'mnist' (a string), not an object or null"),
    "extra-info-null": (lambda run: run["benchmarks"][0].update(extra_info=None),
                        "benchmark 1 (test_train[cpu-mlp-dataloader-bs32-w0]): 'extra_info' is null, not an object"),
    "stats-null": (lambda run: run["benchmarks"][0].update(stats=None), "'stats' is null, not an object"),
    "train-without-batch-size": (_drop_row_key("train", "batch_size"),
                                 "benchmark 1 (test_train[cpu-mlp-dataloader-bs32-w0]): extra_info has no "
                                 "'batch_size', which every train row needs"),
    "loader-without-num-workers": (_drop_row_key("loader", "num_workers"),
                                   "extra_info has no 'num_workers', which every loader row needs"),
    "batch-size-string": (_set_row("train", "batch_size", "128"), "batch_size is '128' (a string), not an integer"),
    "pin-memory-null": (_set_row("train", "pin_memory", None), "pin_memory is null, not true or false"),
    "rounds-not-numbers": (_set_row("train", "samples_per_s_rounds", ["fast"]),
                           "samples_per_s_rounds holds something other than numbers"),
    "samples-per-s-string": (_set_row("loader", "samples_per_s", "fast"),
                             "samples_per_s is 'fast' (a string), not a number or null"),
    "transfer-without-transfer": (_drop_row_key("transfer", "transfer"),
                                  "extra_info has no 'transfer', which every transfer row needs"),
    "transfer-without-bytes": (_drop_row_key("transfer", "bytes"),
                               "extra_info has no 'bytes', which every transfer row needs"),
    "accuracy-without-epochs": (_drop_row_key("accuracy", "epochs"),
                                "extra_info has no 'epochs', which every accuracy row needs"),
    "accuracy-reached-without-time": (_set_row("accuracy", "seconds_to_target", None),
                                      "reached its target but extra_info has no 'seconds_to_target'"),
    "overhead-without-device": (_drop_row_key("overhead", "device"),
                                "extra_info has no 'device', which every overhead row needs"),
}


def write_run(folder: Path, name: str, run: dict) -> Path:
    path = folder / f"run-{name}.json"
    path.write_text(json.dumps(run))
    return path


def command_for(command: str, bad: Path, good: Path, tmp_path: Path) -> list[str]:
    return {
        "compare-current": ["compare", good, bad],
        "compare-baseline": ["compare", bad, good],
        "check": ["check", bad, "--results-dir", tmp_path / "results"],
        "baseline-save": ["baseline", "save", bad, "--results-dir", tmp_path / "results"],
        "report": ["report", bad, "--out", tmp_path / "existing-report", "--force"],
    }[command]


@pytest.mark.parametrize("command", ["compare-current", "compare-baseline", "check", "baseline-save", "report"])
@pytest.mark.parametrize("name", sorted(BAD_RUNS))
def test_malformed_run_file_is_one_line_exit_2(name, command, tmp_path, capsys):
    change, fragment = BAD_RUNS[name]
    bad = write_run(tmp_path, name, edited(change))
    good = write_run(tmp_path, "good", good_run())
    existing = tmp_path / "existing-report"
    existing.mkdir()
    (existing / "report.md").write_text("mine")
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    code, _, err = run_cli(capsys, *command_for(command, bad, good, tmp_path))
    assert_one_line_error(code, err, str(bad), fragment, REMEDY)
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before  # nothing written
    assert (existing / "report.md").read_text() == "mine"  # even with --force


def test_every_row_kind_a_session_writes_is_accepted(tmp_path, capsys):
    run = good_run()
    run["benchmarks"].append({"name": "test_unrelated", "group": None, "extra_info": {}, "stats": {"rounds": 5}})
    path = write_run(tmp_path, "good", run)
    assert len(load_run(path)["benchmarks"]) == len(run["benchmarks"])
    code, out, err = run_cli(capsys, "compare", write_run(tmp_path, "earlier", another_session(good_run())), path)
    assert code == 0 and "no regression" in out, err


def test_the_committed_real_runs_are_accepted():
    runs = sorted((REPO_ROOT / "docs" / "evidence").rglob("run-*.json"))
    assert runs, "the repository ships its measured runs under docs/evidence/"
    for path in runs:
        run = read_run(path)
        assert run.rows and not run.unusable, path


def test_required_keys_are_what_compare_matches_by():
    for kind in ("train", "loader", "overhead", "accuracy"):
        assert set(KEY_FIELDS) - set(SINCE_FORMAT_2) <= set(REQUIRED_KEYS[kind])  # newer key fields default
    assert set(TransferRow.KEY_FIELDS) <= set(REQUIRED_KEYS["transfer"])


def test_corrupt_stored_baseline_names_the_baseline(tmp_path, capsys):
    current = write_run(tmp_path, "current", good_run())
    stored = save_baseline(read_run(current), tmp_path)
    data = json.loads(stored.read_text())
    data["machine_info"] = None
    stored.write_text(json.dumps(data))
    assert stored == baseline_path(tmp_path, hardware_key(typed_run(Path("good.json"), good_run())))
    code, _, err = run_cli(capsys, "check", current, "--results-dir", tmp_path)
    assert_one_line_error(code, err, f"baseline {stored}", "'machine_info' is null", "--force")


def test_a_folder_given_as_run_file(tmp_path, capsys):
    code, _, err = run_cli(capsys, "compare", tmp_path, tmp_path)
    assert_one_line_error(code, err, f"{tmp_path} is a folder, not a run file", "--results-dir")


# format_version --------------------------------------------------------------------------------

@pytest.mark.parametrize("version, fragment", [
    ("1", "'mnist_bench.format_version' is '1' (a string), not an integer; write it as a whole number such as 2"),
    (True, "'mnist_bench.format_version' is True (true or false), not an integer"),
    (1.0, "'mnist_bench.format_version' is 1.0 (a number), not an integer"),
    (None, "'mnist_bench.format_version' is null, not an integer"),
    (0, "run format 0 is not a known format"),
    (FORMAT_VERSION + 1, f"run format {FORMAT_VERSION + 1} is newer than this mnist-bench understands"),
])
def test_format_version(version, fragment, tmp_path, capsys):
    run = good_run()
    run[SECTION]["format_version"] = version
    bad = write_run(tmp_path, "version", run)
    code, _, err = run_cli(capsys, "compare", write_run(tmp_path, "good", good_run()), bad)
    assert_one_line_error(code, err, str(bad), fragment)
    if version != FORMAT_VERSION + 1:
        assert "newer" not in err


def test_missing_format_version(tmp_path, capsys):
    run = good_run()
    del run[SECTION]["format_version"]
    code, _, err = run_cli(capsys, "report", write_run(tmp_path, "version", run), "--out", tmp_path / "out")
    assert_one_line_error(code, err, "'mnist_bench.format_version' is missing, not an integer")
    assert not (tmp_path / "out").exists()


# OS errors and internal errors -----------------------------------------------------------------

def test_results_dir_that_cannot_be_created(tmp_path, capsys):
    run_path = write_run(tmp_path, "good", good_run())
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    code, _, err = run_cli(capsys, "baseline", "save", run_path, "--results-dir", blocker / "results")
    assert_one_line_error(code, err, "cannot use", str(blocker), "give another path")
    assert blocker.read_text() == "mine"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_results_dir_under_proc(tmp_path, capsys):
    run_path = write_run(tmp_path, "good", good_run())
    code, _, err = run_cli(capsys, "baseline", "save", run_path, "--results-dir", "/proc/nope")
    assert_one_line_error(code, err, "cannot use /proc/nope")


def test_os_error_traceback_with_debug(tmp_path):
    run_path = write_run(tmp_path, "good", good_run())
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    with pytest.raises(OSError):
        main(["--debug", "baseline", "save", str(run_path), "--results-dir", str(blocker / "results")])


def _boom(*args, **kwargs):
    raise ZeroDivisionError("boom\nsecond line")


def test_internal_error_is_exit_3_not_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("mnist_core.commands.compare.compare_runs", _boom)
    good = write_run(tmp_path, "good", good_run())
    earlier = write_run(tmp_path, "earlier", another_session(good_run()))
    code, _, err = run_cli(capsys, "compare", earlier, good)
    assert code == EXIT_INTERNAL == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0] == ("mnist-bench: error: internal error: ZeroDivisionError: boom second line "
                        "(run with --debug for the traceback)")
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "compare", str(earlier), str(good)])


def test_help_documents_the_exit_codes(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "1 a regression found" in text and "3 an internal error" in text and "--debug" in text


# info --data-root ------------------------------------------------------------------------------

def test_info_data_root_is_a_file(tmp_path, capsys):
    a_file = tmp_path / "train-images-idx3-ubyte"
    a_file.write_bytes(b"not a folder")
    code, _, err = run_cli(capsys, "info", "--no-download", "--data-root", a_file)
    assert_one_line_error(code, err, f"data root {a_file} is not a folder", "--data-root")
    assert "does not exist" not in err


# why a copy is missing ------------------------------------------------------------------------

def transfer_run(*, skipped=(), failed=(), drop=()) -> dict:
    run = gpu_run()
    run["benchmarks"] = [bench for bench in run["benchmarks"] if bench["extra_info"]["kind"] == "transfer"
                         and bench["name"] not in drop]
    run[SECTION].update(skipped=list(skipped), failed=list(failed))
    return run


BATCH_COPY = "test_h2d_copy[cuda-h2d-bs128-pinned-nb]"
BLOCK_COPY = "test_h2d_copy[cuda-h2d-64MiB-pageable-blk]"


def outcome(kind, config, reason, id_):
    """A skipped/failed entry as bench/run_recorder.py writes it: a copy records its transfer case."""
    return {"id": id_, "nodeid": f"bench/bench_transfer.py::{id_}", "kind": kind, "config": config, "reason": reason}


def test_missing_copies_say_why():
    skipped = [outcome("transfer", {"batch_size": 128, "pinned": True, "non_blocking": True},
                       "host-to-device copies need a CUDA GPU; none is visible to torch", "transfer/cuda-h2d-bs128-pinned-nb")]
    failed = [outcome("transfer", {"block_mib": 64, "pinned": False, "non_blocking": False},
                      "OutOfMemoryError: CUDA out of memory", "transfer/cuda-h2d-64MiB-pageable-blk")]
    current = transfer_run(skipped=skipped, failed=failed, drop=(BATCH_COPY, BLOCK_COPY))
    rows = {row.id: row for row in compare_runs(typed_run(Path("base"), transfer_run()),
                                                typed_run(Path("current"), current)).rows}
    assert rows["transfer/cuda-h2d-bs128-pinned-nb"].status == MISSING
    assert rows["transfer/cuda-h2d-bs128-pinned-nb"].note == (
        "skipped: host-to-device copies need a CUDA GPU; none is visible to torch")
    assert rows["transfer/cuda-h2d-64MiB-pageable-blk"].note == "failed: OutOfMemoryError: CUDA out of memory"


def test_missing_copy_reason_at_the_cli(tmp_path, capsys):
    failed = [outcome("transfer", {"batch_size": 128, "pinned": True, "non_blocking": True},
                      "OutOfMemoryError: CUDA out of memory", "transfer/cuda-h2d-bs128-pinned-nb")]
    base = write_json_atomic(tmp_path / "base.json", transfer_run())
    current = write_json_atomic(tmp_path / "current.json", transfer_run(failed=failed, drop=(BATCH_COPY,)))
    code, out, err = run_cli(capsys, "compare", base, current)
    assert code == 0, err
    line = next(line for line in out.splitlines() if "cuda-h2d-bs128-pinned-nb" in line)
    assert "missing" in line and "failed: OutOfMemoryError: CUDA out of memory" in line


def test_a_skipped_or_failed_entry_has_the_id_its_row_would_have():
    """The session records outcomes as kind/parameter id, which is the id a measured row gets from its name."""
    case = {"batch_size": 128, "pinned": True, "non_blocking": True}
    row = next(row for row in typed_run(Path("gpu"), gpu_run()).rows if row.kind == "transfer"
               and row.transfer == "batch128" and row.pin_memory and row.non_blocking)
    assert row.id == f"transfer/{transfer_label(case)}"


@pytest.mark.parametrize("size", [{"batch_size": 128}, {"block_mib": 1}])
def test_transfer_name_is_what_build_transfer_records(size):
    workload = build_transfer("cpu", pinned=False, non_blocking=False, **size)
    assert transfer_name(**size) == workload.label
    bench = transfer_bench(False, False, 10.0, batch=size.get("batch_size"), block_mib=size.get("block_mib"))
    assert bench["extra_info"]["transfer"] == workload.label


# numbers that cannot be real ------------------------------------------------------------------------------------
# One validation (runs/rows.py) shared by every command: such a row is listed as unusable and never given a
# verdict nor reported as a result; a run with no usable row, or one configuration measured twice, is refused.

LOADER_W0 = "loader/cpu-mlp-dataloader-bs128-w0"


def _on_loader_w0(change):
    def edit(run):
        bench = next(bench for bench in run["benchmarks"] if bench["name"] == "test_loader[cpu-mlp-dataloader-bs128-w0]")
        change(bench)
    return edit


IMPOSSIBLE = {  # name -> (edit of a good run, what the unusable row's reason says)
    "nan-throughput": (_on_loader_w0(lambda bench: bench["extra_info"].update(samples_per_s=float("nan"))),
                       "samples_per_s is nan, not a finite number"),
    "rounds-negative-zero-huge": (_on_loader_w0(lambda bench: bench["extra_info"].update(
        samples_per_s_rounds=[-1, 0, 1e308])), "a value in samples_per_s_rounds is -1; it must be above 0"),
    "no-round-times": (_on_loader_w0(lambda bench: bench["stats"].update(data=[])),
                       "stats.data (the round times) is empty"),
    "batch-size-impossible": (_on_loader_w0(lambda bench: bench["extra_info"].update(batch_size=10**12)),
                              "batch_size must be <= 60,000, got 1,000,000,000,000"),
    # finite and positive, but beyond what any machine can do (PHYSICAL_MAX), in the rounds or a stored field
    "rounds-beyond-physics": (_on_loader_w0(lambda bench: bench["extra_info"].update(
        samples_per_s_rounds=[1e308] * 8, samples_per_s=1e308)),
        "a value in samples_per_s_rounds is 1e+308 samples/s, beyond what any machine can do"),
    "yardstick-beyond-physics": (_on_loader_w0(lambda bench: bench["extra_info"].update(
        yardstick_rounds=[2e11] * 8)), "a value in yardstick_rounds is 2e+11 samples/s, beyond what any machine"),
    "stored-median-beyond-physics": (_on_loader_w0(lambda bench: bench["extra_info"].update(samples_per_s=1e308)),
                                     "samples_per_s is 1e+308 samples/s, beyond what any machine can do"),
    # a stored median that is not its rounds' median is reported, never silently replaced by theirs
    "stored-median-not-the-rounds": (_on_loader_w0(lambda bench: bench["extra_info"].update(
        samples_per_s=bench["extra_info"]["samples_per_s"] * 2)),
        "samples_per_s is 40297.8 but the median of its 8 rounds is 20148.9: one of them was edited or damaged"),
}


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("name", sorted(IMPOSSIBLE))
def test_an_impossible_row_is_listed_and_never_judged(name, tmp_path, results, capsys):
    change, reason = IMPOSSIBLE[name]
    bad = write_run(tmp_path, name, edited(change))
    good = write_run(tmp_path, "good", good_run())
    run = read_run(bad)
    assert [item.id for item in run.unusable] == [LOADER_W0] and reason in run.unusable[0].reason
    assert LOADER_W0 not in {row.id for row in run.rows}

    code, out, err = run_cli(capsys, "compare", good, bad)
    assert code == 0, err
    line = next(line for line in out.splitlines() if LOADER_W0 in line and "unusable" in line)
    assert reason.split(";")[0][:40] in " ".join(out.split())
    assert "slower" not in line and "same" not in line
    save_baseline(read_run(good), results)
    code, out, err = run_cli(capsys, "check", bad, "--results-dir", results)
    assert code == 0 and "unusable" in out, err

    code, _, err = run_cli(capsys, "report", bad, "--out", tmp_path / "report")
    assert code == 0, err
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "Rows set aside: numbers that cannot be real" in markdown and LOADER_W0 in markdown

    code, _, err = run_cli(capsys, "baseline", "save", bad, "--results-dir", tmp_path / "other")
    assert_one_line_error(code, err, "cannot be real", LOADER_W0, "save another run")
    assert not (tmp_path / "other" / "baselines").exists()


@pytest.mark.parametrize("command", ["compare-current", "compare-baseline", "check", "baseline-save", "report"])
def test_a_run_of_impossible_numbers_only_is_refused(command, tmp_path, capsys):
    def all_nan(run):
        for bench in run["benchmarks"]:
            info = bench["extra_info"]
            key = "gb_s_rounds" if "gb_s_rounds" in info else "samples_per_s_rounds"
            if key in info:
                info[key] = [float("nan")] * 3
        run["benchmarks"] = [bench for bench in run["benchmarks"] if bench["extra_info"]["kind"] != "accuracy"]

    bad = write_run(tmp_path, "all-bad", edited(all_nan))
    good = write_run(tmp_path, "good", good_run())
    code, _, err = run_cli(capsys, *command_for(command, bad, good, tmp_path))
    assert_one_line_error(code, err, str(bad), "no benchmark has numbers that can be real", "not a finite number")


@pytest.mark.parametrize("command", ["compare-current", "compare-baseline", "check", "baseline-save", "report"])
def test_the_same_configuration_twice_is_refused_everywhere(command, tmp_path, capsys):
    def twice(run):
        run["benchmarks"].append(json.loads(json.dumps(run["benchmarks"][0])))

    bad = write_run(tmp_path, "twice", edited(twice))
    good = write_run(tmp_path, "good", good_run())
    code, _, err = run_cli(capsys, *command_for(command, bad, good, tmp_path))
    assert_one_line_error(code, err, str(bad), "two benchmarks measured train/cpu-mlp-dataloader-bs32-w0",
                          "give the run file of one session")


def test_a_copy_beyond_physics_is_unusable(tmp_path):
    def too_fast(run):
        info = run["benchmarks"][index_of(run, "transfer")]["extra_info"]
        info.update(gb_s_rounds=[20_000.0] * 8, gb_s=20_000.0)  # twice the most any GPU's memory takes in

    run = read_run(write_run(tmp_path, "copy", edited(too_fast)))
    (item,) = run.unusable
    assert item.id.startswith("transfer/") and "20000 GB/s, beyond what any machine can do" in item.reason


def test_the_fastest_committed_rows_are_far_below_the_physical_bounds():
    """The bounds leave real machines a wide margin: every committed row, CPU and H100, is 100x below them."""
    fastest = {"samples_per_s": 0.0, "gb_s": 0.0}
    for path in sorted((REPO_ROOT / "docs" / "evidence").rglob("run-*.json")):
        for row in read_run(path).rows:
            measurement = getattr(row, "measurement", None)
            if measurement is not None:
                fastest[measurement.metric] = max(fastest[measurement.metric], *measurement.rates)
    assert all(0 < fastest[metric] < PHYSICAL_MAX[metric] / 100 for metric in fastest), fastest


# one run compared with itself, runs of two formats ------------------------------------------------------------
# Comparing a run with itself can only find no change: exit 2 (unusable input, like a missing baseline), so a CI
# job whose benchmark step wrote no new run does not pass its regression gate having compared nothing.

def test_a_run_compared_with_itself_or_its_copy_is_refused(tmp_path, capsys):
    path = write_run(tmp_path, "good", good_run())
    copy = write_run(tmp_path, "copy", good_run())
    for other in (path, copy):
        code, out, err = run_cli(capsys, "compare", path, other)
        assert_one_line_error(code, err, f"{path} and {other} are the same run", "nothing to compare",
                              "run the benchmarks again")
        assert out == ""


def test_check_right_after_baseline_save_is_refused(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    path = write_run(results, "20261120T100000Z-h100", good_run())
    code, _, err = run_cli(capsys, "baseline", "save", path, "--results-dir", results)
    assert code == 0, err
    for given in ((path,), ()):  # named, or the latest run under --results-dir
        code, out, err = run_cli(capsys, "check", *given, "--results-dir", results)
        assert_one_line_error(code, err, "are the same run: the baseline was saved from this very run", str(path),
                              "nothing to compare")
    (stored,) = (results / "baselines").iterdir()
    code, _, err = run_cli(capsys, "compare", stored, path)
    assert_one_line_error(code, err, "the baseline was saved from this very run")
    later = write_run(results, "20261120T100100Z-h100", another_session(good_run()))
    code, out, err = run_cli(capsys, "check", later, "--results-dir", results)
    assert code == 0 and "no regression" in out, err


def _halve_loader_w0(run: dict) -> None:
    info = run["benchmarks"][index_of(run, "loader")]["extra_info"]
    assert info["num_workers"] == 0
    info["samples_per_s_rounds"] = [rate / 2 for rate in info["samples_per_s_rounds"]]
    info["samples_per_s"] /= 2


@pytest.mark.parametrize("slowed", [False, True])
def test_runs_of_two_formats_are_named_in_the_verdict(slowed, tmp_path, capsys):
    older = good_run()
    older[SECTION]["format_version"] = 1
    current = another_session(edited(_halve_loader_w0) if slowed else good_run())
    code, out, err = run_cli(capsys, "compare", write_run(tmp_path, "format-1", older),
                             write_run(tmp_path, "format-2", current))
    assert code == (1 if slowed else 0), err
    verdict = " ".join(out.split()).split("no regression" if not slowed else "REGRESSION: 1 slower")[1]
    assert verdict.startswith((", between", f" by more than 10% with the whole 95% interval: {LOADER_W0}, between"))
    assert "between a format-1 baseline (fixed rounds, not paired with a yardstick" in verdict
    assert "and a format-2 run (rounds paired with the tutorial's setting" in verdict
    assert "they measured differently" in verdict

    code, out, err = run_cli(capsys, "compare", write_run(tmp_path, "format-2-earlier", good_run()),
                             write_run(tmp_path, "format-2", current))
    assert code == (1 if slowed else 0) and "measured differently" not in out, err
