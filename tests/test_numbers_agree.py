"""Numbers that agree: every "×" and "%" a report prints can be recomputed from the throughputs printed beside it
(within rounding), its findings quote only numbers the tables they link to print, their words match their own
verdicts, and a verdict that departs from the stated rule says why.

Checked on every report committed under docs/evidence/ and on reports this version builds from the committed GPU
and CPU runs, from that CPU run as if no configuration had reached its accuracy target and from the synthetic GPU
run the report tests use (each also with every finding, not only the first seven), so the committed files cannot
hide a change.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from mnist_core.report import build_report
from mnist_core.report.analysis import setting_label
from mnist_core.report.findings import all_findings
from mnist_core.report.inputs import load_runs
from mnist_core.report.render import to_markdown
from printed_numbers import NUMBER, RATE, agrees, printed, ratio_of_pct

EVIDENCE = Path(__file__).resolve().parents[1] / "docs" / "evidence"
COMMITTED_REPORTS = sorted(EVIDENCE.rglob("report.md"))
REBUILT_RUNS = [EVIDENCE / "gpu-nvidia-h100-16core" / "run-20261126T163617Z-nvidia-h100-80gb-hbm3.json",
                EVIDENCE / "cpu-amd-epyc-2core" / "fresh-clone" / "run-20261130T135632Z-amd-epyc.json"]
VS = "vs the tutorial's setting [95%]"  # the throughput table's ratio column
THRESHOLD = 1.05  # the report's settings threshold (measure/effect.SETTINGS_THRESHOLD_PCT), a ratio

RATIO = rf"({NUMBER})× \[({NUMBER})×–({NUMBER})×\]"
PCT = rf"([+\-]{NUMBER})% \[([+\-]{NUMBER})%?, ([+\-]{NUMBER})%?\]"
BASIS = rf"\((?:GPU |CPU )?({RATE}) vs (?:GPU |CPU )?({RATE}) samples/s"


def _unreached(path: Path, out: Path) -> Path:
    """The run as if no configuration had reached its accuracy target: the finding that then names the best."""
    run = json.loads(path.read_text())
    for bench in run["benchmarks"]:
        if bench["extra_info"].get("kind") == "accuracy":
            bench["extra_info"].update(reached=False, seconds_to_target=None)
    out.write_text(json.dumps(run))
    return out


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> dict[str, str]:
    """Reports this version builds, each also with every finding its run yields (not only the first
    MAX_FINDINGS), so findings ranked out of the committed reports are held to the same rules."""
    from report_data import gpu_run

    folder = tmp_path_factory.mktemp("numbers")
    synthetic = folder / "run-synthetic-gpu.json"
    synthetic.write_text(json.dumps(gpu_run()))
    unreached = _unreached(REBUILT_RUNS[1], folder / "run-unreached-cpu.json")
    out = {}
    for path in [*REBUILT_RUNS, synthetic, unreached]:
        runs = load_runs([path])
        report = build_report(runs)[0]
        out[path.name] = to_markdown(report)
        out[f"{path.name}, every finding"] = to_markdown(replace(report, findings=tuple(all_findings(runs, most=None))))
    return out


def _reports(rebuilt: dict[str, str]) -> list[tuple[str, str]]:
    return [(str(path.relative_to(EVIDENCE)), path.read_text()) for path in COMMITTED_REPORTS] + \
        [(f"rebuilt from {name}", text) for name, text in rebuilt.items()]


def _claims(line: str) -> list[tuple[Printed, str, int]]:
    """Each ratio or % change with its interval on a line: (its value as a ratio, its text, where it ends)."""
    found = [(printed(match.group(1)), match.group(0), match.end()) for match in re.finditer(RATIO, line)]
    found += [(ratio_of_pct(match.group(1)), match.group(0), match.end()) for match in re.finditer(PCT, line)]
    return sorted(found, key=lambda item: item[2])


def _prose(markdown: str) -> list[str]:
    """The answer's and the findings' lines."""
    return [line for line in markdown.splitlines() if re.match(r"(- |\d+\. )", line)]


def _answer_and_findings_disagreements(markdown: str) -> list[str]:
    """A ratio on a line that prints throughputs must be followed by its basis '(A vs B samples/s', and A/B must
    round to it."""
    bad = []
    for line in _prose(markdown):
        if "samples/s" not in line:
            continue
        claims = _claims(line)
        for index, (value, text, end) in enumerate(claims):
            stop = claims[index + 1][2] - len(claims[index + 1][1]) if index + 1 < len(claims) else len(line)
            basis = re.search(BASIS, line[end:stop])
            if basis is None:
                bad.append(f"{text}: no '(A vs B samples/s' after it: {line}")
            elif not agrees(value, basis.group(1), basis.group(2)):
                bad.append(f"{text} is not {basis.group(1)} / {basis.group(2)}: {line}")
    return bad


def _table(markdown: str, header_start: str) -> list[dict[str, str]]:
    """The rows of the first markdown table whose header row starts with `header_start`."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(header_start):
            header = [cell.strip() for cell in line.strip("|").split("|")]
            rows = []
            for row in lines[index + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(header, (cell.strip().strip("*") for cell in row.strip("|").split("|")))))
            return rows
    return []


def _throughputs(markdown: str) -> dict[tuple[str, str, str], dict[str, str]]:
    return {(row["device"], row["setting"], row["batch"]): row
            for row in _table(markdown, "| device | model | setting | batch | samples/s [95% interval] | per epoch")}


def _table_disagreements(markdown: str) -> list[str]:
    bad = []
    rows = _throughputs(markdown)
    tutorial = {device: row["adjusted samples/s"] for (device, _, _), row in rows.items()
                if row[VS] == "1.00×"}
    for (device, setting, batch), row in rows.items():
        ratio = re.match(NUMBER, row[VS])
        if ratio and device in tutorial and not agrees(printed(ratio.group(0)), row["adjusted samples/s"],
                                                          tutorial[device]):
            bad.append(f"throughput table {device} {setting} {batch}: {row[VS]} is not "
                       f"{row['adjusted samples/s']} / {tutorial[device]}")
    for row in _table(markdown, "|  | CPU setting |"):
        ratio = printed(re.match(NUMBER, row["GPU vs CPU [95%]"]).group(0))
        if not agrees(ratio, row["GPU adjusted samples/s"], row["CPU adjusted samples/s"]):
            bad.append(f"GPU vs CPU table: {row['GPU vs CPU [95%]']} is not {row['GPU adjusted samples/s']} / "
                       f"{row['CPU adjusted samples/s']}")
    for row in _table(markdown, "| device | setting | batch"):  # the settings pivot, batch sizes across
        base = next((re.search(rf"\(({RATE})/s", cell).group(1) for cell in row.values()
                     if cell.startswith("the tutorial's setting (")), None)
        for column, cell in row.items():
            change = re.match(PCT, cell)
            if not column.startswith("batch ") or change is None or base is None:
                continue
            adjusted = rows[(row["device"], f"DataLoader, {row['setting']}", column.removeprefix("batch "))]
            if not agrees(ratio_of_pct(change.group(1)), adjusted["adjusted samples/s"], base):
                bad.append(f"settings table {row['device']} {row['setting']} {column}: {cell} is not "
                           f"{adjusted['adjusted samples/s']} / {base}")
    for row in _table(markdown, "| design target | measured |"):
        match = re.fullmatch(r"(resident|resident-graph) vs the tutorial's setting \((CPU|GPU)\)", row["design target"])
        if match is None:
            continue
        device = match.group(2)
        setting = f"data resident on the {device}" + (", step in a CUDA graph" if match.group(1) != "resident" else "")
        adjusted = rows[(device, setting, "128")]["adjusted samples/s"]
        if not agrees(printed(row["measured"].removesuffix("×")), adjusted, tutorial[device]):
            bad.append(f"suite check {row['design target']}: {row['measured']} is not {adjusted} / {tutorial[device]}")
    return bad


def test_every_ratio_in_the_answer_and_findings_is_the_quotient_printed_beside_it(rebuilt):
    bad = [f"{name}: {problem}" for name, text in _reports(rebuilt) for problem in _answer_and_findings_disagreements(text)]
    assert not bad, "\n".join(bad)


def test_every_ratio_in_the_tables_is_the_quotient_of_adjusted_throughputs(rebuilt):
    checked = 0
    for name, text in _reports(rebuilt):
        assert _throughputs(text), f"{name}: no training throughput table"
        bad = _table_disagreements(text)
        assert not bad, f"{name}:\n" + "\n".join(bad)
        checked += 1
    assert checked == len(COMMITTED_REPORTS) + len(rebuilt)


TABLE_ANCHOR = r'<a id="(table-[\w-]+)"></a>'
TABLE_LINK = r"\[[^\]]*\]\(#(table-[\w-]+)\)"
WHOLE_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?[kM]?"  # '1,297', '14.1M'; of 'batches 32, 128' the '32', not '32,'


def _tables(markdown: str) -> dict[str, str]:
    """Each table's text (title, cells, note) by its anchor, as the findings link to it: up to the next table,
    heading or figure."""
    pieces = re.split(TABLE_ANCHOR, markdown)
    return {anchor: re.split(r"^(?:## |!\[)", text, flags=re.M)[0] for anchor, text in zip(pieces[1::2], pieces[2::2])}


def _findings(markdown: str) -> list[str]:
    """The findings' lines, each without its list number."""
    section = re.search(r"^## Findings\n(.*?)(?=^## |\Z)", markdown, flags=re.M | re.S)
    lines = section.group(1).splitlines() if section else []
    return [line.split(". ", 1)[1] for line in lines if re.match(r"\d+\. ", line)]


def _without_run_label(finding: str, markdown: str) -> str:
    """With several runs each finding starts with its run's label, which the status lines open with."""
    labels = re.findall(r"^(.+?): \S+\.json · ", markdown, flags=re.M)
    return next((finding.removeprefix(f"{label}: ") for label in labels if finding.startswith(f"{label}: ")), finding)


def _numbers_missing_from_linked_tables(markdown: str) -> list[str]:
    """Every number a finding prints must be printed by a table it links to; a finding must link one."""
    tables, bad = _tables(markdown), []
    for finding in _findings(markdown):
        links = re.search(rf" \(((?:{TABLE_LINK}(?:, )?)+)\)$", finding)
        if links is None:
            bad.append(f"links no table: {finding}")
            continue
        anchors = re.findall(TABLE_LINK, links.group(1))
        bad += [f"links #{anchor}, which no table has: {finding}" for anchor in anchors if anchor not in tables]
        shown = {number for anchor in anchors for number in re.findall(WHOLE_NUMBER, tables.get(anchor, ""))}
        body = _without_run_label(finding[:links.start()], markdown)
        bad += [f"{number} is not in #{', #'.join(anchors)}: {finding}" for number in re.findall(WHOLE_NUMBER, body)
                if number not in shown]
    return bad


def test_every_number_in_a_finding_is_printed_by_the_tables_it_links_to(rebuilt):
    checked = 0
    for name, text in _reports(rebuilt):
        bad = _numbers_missing_from_linked_tables(text)
        assert not bad, f"{name}:\n" + "\n".join(bad)
        checked += len(_findings(text))
    assert checked > len(COMMITTED_REPORTS) + len(rebuilt)  # the reports have findings to check


def _unnamed(finding) -> list[str]:
    """What a finding leaves out of the configurations it quotes: each one's label as the tables print it, and its
    batch size."""
    missing = [f"'{setting_label(config)}'" for config in finding.configs if setting_label(config) not in finding.text]
    missing += [f"batch {config.batch_size}" for config in finding.configs
                if not re.search(rf"\bbatch(?:es)? (?:\d+, )*{config.batch_size}\b", finding.text)]
    return missing


def _finding_runs(tmp_path) -> list[list]:
    from report_data import gpu_run

    synthetic = tmp_path / "run-synthetic-gpu.json"
    synthetic.write_text(json.dumps(gpu_run()))
    paths = [*REBUILT_RUNS, synthetic, _unreached(REBUILT_RUNS[1], tmp_path / "run-unreached-cpu.json")]
    paths += [*sorted((EVIDENCE / "cpu-amd-epyc-2core" / "aa" / "quick").glob("run-*.json"))[:1],
              *sorted((EVIDENCE / "cpu-amd-epyc-2core" / "fresh-clone-3").glob("run-*.json"))]
    return [load_runs([path]) for path in paths]


def test_every_finding_names_the_configurations_it_compares(tmp_path):
    """A finding that compares rows names each by the label the tables print (pipeline and every setting that can
    act) and its batch size: "0 workers" alone does not say what it was compared with."""
    checked, bad = 0, []
    for runs in _finding_runs(tmp_path):
        for finding in all_findings(runs, most=None):
            checked += bool(finding.configs)
            bad += [f"{finding.text} leaves out {', '.join(missing)}" for missing in [_unnamed(finding)] if missing]
    assert checked > 10 and not bad, "\n".join(bad)


def test_the_naming_check_can_fail(tmp_path):
    """The finding on workers with the tutorial's label cut out of it is caught."""
    runs = load_runs([REBUILT_RUNS[1]])
    finding = next(finding for finding in all_findings(runs, most=None) if "workers instead of" in finding.text)
    tutorial = setting_label(finding.configs[1])
    assert not _unnamed(finding) and _unnamed(replace(finding, text=finding.text.replace(tutorial, "it")))


def test_the_findings_check_can_fail():
    """A finding quoting a number its table does not print, or linking no table, is caught; the same finding
    linked to the table that prints its number passes."""
    report = ("## Findings\n\n1. Time to 84% validation accuracy: fastest 1.90 s. {link}\n\n## Time to accuracy\n\n"
              '<a id="table-accuracy"></a>**Time to accuracy**\n\n| target accuracy | time to target |\n'
              "| ---: | ---: |\n| 84% | 1.80 s |\n\n"
              '<a id="table-telemetry"></a>**GPU telemetry**\n\n| GPU busy (mean %) |\n| ---: |\n| 1.90 |\n')
    assert not _numbers_missing_from_linked_tables(report.format(link="([GPU telemetry](#table-telemetry), "
                                                                      "[Time to accuracy](#table-accuracy))"))
    assert _numbers_missing_from_linked_tables(report.format(link="([Time to accuracy](#table-accuracy))")) == [
        "1.90 is not in #table-accuracy: Time to 84% validation accuracy: fastest 1.90 s. "
        "([Time to accuracy](#table-accuracy))"]
    assert _numbers_missing_from_linked_tables(report.format(link=""))[0].startswith("links no table")
    assert _numbers_missing_from_linked_tables(report.format(link="([Noise](#table-noise))"))[0].startswith(
        "links #table-noise, which no table has")


def test_every_link_in_a_committed_html_report_has_its_target():
    """report.html's findings link their tables by id, as report.md's do by anchor."""
    pages = sorted(EVIDENCE.rglob("report.html"))
    for path in pages:
        page = path.read_text()
        missing = set(re.findall(r'href="#([^"]+)"', page)) - set(re.findall(r' id="([^"]+)"', page))
        assert not missing, f"{path}: no id for {sorted(missing)}"
        assert 'href="#table-' in page, f"{path}: no finding links a table"
    assert len(pages) == len(COMMITTED_REPORTS)


def test_findings_words_match_their_verdicts(rebuilt):
    """'depends on the batch size' only with both directions; 'at every batch size' only when all agree; never
    'choose the CPU' unless the GPU was slower there."""
    for name, text in _reports(rebuilt):
        for line in _prose(text):
            verdicts = re.findall(r"samples/s, (faster|slower|no different|inconclusive)", line)
            if "depends on the batch size" in line:
                assert {"faster", "slower"} <= set(verdicts), f"{name}: {line}"
            if "at every batch size measured" in line and verdicts:
                assert len(set(verdicts)) == 1, f"{name}: {line}"
            if "choose the CPU" in line:
                assert re.search(r"slower \(choose the CPU\) at batch", line), f"{name}: {line}"


def test_an_inconclusive_interval_wholly_beyond_the_threshold_says_why(rebuilt):
    """The rule above the tables calls such an interval faster or slower; a cell that does not must say why."""
    bad = []
    for name, text in _reports(rebuilt):
        for line in text.splitlines():
            for match in re.finditer(rf"(?:{RATIO}|{PCT}) \? inconclusive(: too few rounds)?", line):
                if match.group(1):
                    low, high = printed(match.group(2)).low, printed(match.group(3)).high
                else:
                    low, high = ratio_of_pct(match.group(5)).low, ratio_of_pct(match.group(6)).high
                if (low > THRESHOLD or high < 1 / THRESHOLD) and not match.group(7):
                    bad.append(f"{name}: {match.group(0)}")
    assert not bad, "\n".join(bad)


def test_the_answer_names_a_dataset_that_is_not_mnist(rebuilt):
    for name, text in _reports(rebuilt):
        dataset = re.search(r"\| dataset \| (\S+)", text)
        answer = text.split("## Findings")[0]
        if dataset and dataset.group(1) == "fashion-mnist":
            assert "Data: Fashion-MNIST, not MNIST" in answer, name
        if dataset and dataset.group(1) == "synthetic":
            assert "Data: a synthetic MNIST-shaped set" in answer, name


def test_the_checks_can_fail():
    """The helpers reject what a user would: a ratio that is not the quotient, beyond rounding."""
    assert agrees(printed("34.5"), "486k", "14.1k") and not agrees(printed("34.5"), "447k", "14.1k")
    assert not _answer_and_findings_disagreements("- Fastest: 447k samples/s: 34.5× [32.3×–38.2×] the tutorial's "
                                                  "setting (486k vs 14.1k samples/s, adjusted).")
    assert _answer_and_findings_disagreements("- Fastest: 447k samples/s: 34.5× [32.3×–38.2×] the tutorial's "
                                              "setting (447k vs 14.1k samples/s, adjusted).")
    assert _answer_and_findings_disagreements("- Fastest: 447k samples/s: 34.5× [32.3×–38.2×] the tutorial's setting.")


COMPARE_OUTPUTS = sorted(EVIDENCE.rglob("*compare*.txt"))


def _compare_rows(text: str) -> list[tuple[list[str], str]]:
    """(cells of a row's first line, the row's cells with their folded lines joined, as one text) per compared row."""
    rows: list[tuple[list[str], list[str]]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells[0]:
            rows.append((cells, list(cells)))
        elif rows:
            rows[-1] = (rows[-1][0], [f"{whole} {more}".strip() for whole, more in zip(rows[-1][1], cells)])
    return [(first, " | ".join(whole)) for first, whole in rows]


def test_every_change_in_the_committed_compare_outputs_is_adjusted_over_baseline():
    """compare prints the throughput its drift- and state-adjusted change implies (current, adjusted) beside the
    raw medians: the change is that over the baseline's median, within rounding; and an inconclusive change whose
    interval lies wholly beyond the threshold says why (too few rounds)."""
    checked = 0
    for path in COMPARE_OUTPUTS:
        text = path.read_text()
        assert "current, adjusted" in text, f"{path}: no adjusted throughput beside the change"
        threshold = 1 + float(re.search(r"threshold ±([\d.]+)%", text).group(1)) / 100
        for cells, whole in _compare_rows(text):
            configuration, _, baseline, _, adjusted, change, verdict = cells[:7]
            match = re.match(PCT, change)
            if match is None or adjusted == "-":
                continue
            base = baseline.split(" (")[0]
            assert agrees(ratio_of_pct(match.group(1)), adjusted, base), f"{path}: {configuration} {change} is not " \
                f"{adjusted} / {base}"
            low, high = ratio_of_pct(match.group(2)).low, ratio_of_pct(match.group(3)).high
            if verdict == "inconclusive" and (low > threshold or high < 1 / threshold):
                assert "too few rounds" in whole, f"{path}: {configuration}: {change} inconclusive without a reason"
            checked += 1
    assert checked > 100  # every committed output has a table of rows to check


def test_check_prints_the_throughput_its_change_compares():
    """`check`'s rule table: each change is 'favoured, adjusted' over the other's median, within rounding."""
    from rich.console import Console

    from mnist_core.regress.render import rules_table
    from mnist_core.regress.rules import check_rules
    from mnist_core.runs.runfile import read_run

    run = read_run(REBUILT_RUNS[1])
    console = Console(width=400, record=True, file=io.StringIO())
    console.print(rules_table(check_rules(run), 5.0))
    checked = 0
    for cells, _ in _compare_rows(console.export_text()):
        favoured, other, adjusted, change = cells[3], cells[4], cells[5], cells[7]
        match = re.match(PCT, change)
        if match is not None:
            assert agrees(ratio_of_pct(match.group(1)), adjusted, other), cells
            checked += 1
    assert checked >= 3


def _answer_bullets(markdown: str) -> list[str]:
    """The answer's lines: the bullets between the report's title block and its findings."""
    head = markdown.split("## Findings", 1)[0]
    return [line for line in head.splitlines() if line.startswith("- ")]


def test_an_answer_line_gives_each_reason_once(rebuilt):
    """A setting undecided for too few rounds said so in its effect and again after it (fresh-clone-3's run)."""
    repeated = [f"{name}: {line}" for name, text in _reports(rebuilt) for line in _answer_bullets(text)
                if line.count("for a 95% interval") > 1]
    assert not repeated, "\n".join(repeated)
