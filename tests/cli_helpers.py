"""Running `mnist-bench` in-process and checking its one-line errors."""

import json
from pathlib import Path

from mnist_core.commands.cli import main


def run_cli(capsys, *args):
    """(exit code, stdout, stderr) of `mnist-bench ARGS`; argparse's usage errors included."""
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, *fragments):
    """Exit code 2, exactly one line on stderr, no traceback, and each fragment in that line."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def as_another_session(run_path, folder) -> Path:
    """The same rows saved as another session's run (another time): compare refuses a run against itself, so a
    test of what compare says about one run gives it this as the baseline."""
    data = json.loads(Path(run_path).read_text())
    data["datetime"] = "2026-01-01T00:00:00.000000+00:00"
    path = Path(folder) / "other-session.json"
    path.write_text(json.dumps(data))
    return path
