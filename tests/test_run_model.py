"""The run model (mnist_core/runs/): its typed sections hold every key a session writes and read every format of the
committed evidence; row ids are written and split in one place; derived values are written, never used when read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnist_core.runs.row_ids import parameter_of, row_id, split_row_id
from mnist_core.runs.rows import DERIVED_KEYS, row_from_info
from mnist_core.runs.runfile import load_run, read_run
from mnist_core.runs.sections import SECTION, MachineInfo, SessionRecord
from mnist_core.runs.status import RunStatus

from test_cli_bad_run_files import good_run

EVIDENCE = sorted((Path(__file__).resolve().parent.parent / "docs" / "evidence").rglob("run-*.json"))


def test_the_evidence_holds_both_formats():
    versions = {load_run(path)[SECTION]["format_version"] for path in EVIDENCE}
    assert versions == {1, 2}


@pytest.mark.parametrize("path", EVIDENCE, ids=lambda path: path.parent.name + "/" + path.name)
def test_a_sessions_section_is_its_typed_record(path):
    """Format 2 as written (less the drift record's spread_pct of older files, which Run.drift replaced): the
    record gives back every key and value. Format 1: what it lacks reads as its default."""
    section = load_run(path)[SECTION]
    record = SessionRecord.from_json(section)
    if section["format_version"] == 2:
        for device in section["drift"].values():
            device.pop("spread_pct", None)
        assert record.to_json() == section
    else:
        assert record.drift == {} and record.wall_s is None and record.budget_s is None
        assert record.status is RunStatus.of(section["complete"], section["interrupted"])
    assert record.dataset.name == section["dataset"]["name"]


def test_a_run_reads_its_sections_as_attributes():
    run = read_run(EVIDENCE[-1])
    assert run.machine == MachineInfo.from_json(run.data["machine_info"])
    assert run.machine.cpu_model == run.data["machine_info"]["cpu_model"]
    assert run.session.skipped and all(split_row_id(item.id)[0] == item.kind for item in run.session.skipped)
    assert run.status is run.session.status and run.profile == run.session.profile


def test_a_section_without_complete_predates_it_and_was_complete():
    assert SessionRecord.from_json({"format_version": 1}).status is RunStatus.COMPLETE
    assert SessionRecord.from_json({"format_version": 2, "complete": False, "interrupted": True}).status \
        is RunStatus.INTERRUPTED


def test_row_ids_are_written_and_split_in_one_place():
    assert row_id("train", "cpu-mlp-dataloader-bs128-w2") == "train/cpu-mlp-dataloader-bs128-w2"
    assert split_row_id("train/cpu-mlp-dataloader-bs128-w2") == ("train", "cpu-mlp-dataloader-bs128-w2")
    assert split_row_id("bare loop") == ("bare loop", "")
    assert parameter_of("test_train[cpu-mlp-resident-bs128]") == "cpu-mlp-resident-bs128"
    assert parameter_of("test_train") is None


def _edited(value):
    """Another value of the same JSON type (a number stays positive and within any physical bound)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value * 3 + 1
    if isinstance(value, str):
        return value + " (edited)"
    if isinstance(value, list):
        return [*value, "edited"]
    return "edited"


@pytest.mark.parametrize("bench", good_run()["benchmarks"], ids=lambda bench: bench["name"])
def test_derived_values_are_written_and_never_read_back(bench):
    info, name = bench["extra_info"], bench["name"]
    row = row_from_info(info, name)
    derived, written = DERIVED_KEYS[row.kind], json.loads(json.dumps(row.to_info()))
    assert set(derived) <= set(written)
    edited = {**written, **{key: _edited(written[key]) for key in derived if written[key] is not None}}
    assert row_from_info(edited, name) == row_from_info(written, name) == row
