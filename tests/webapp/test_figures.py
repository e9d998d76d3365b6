"""One way to print a number: the server's filters (webapp.studio.figures) and the browser's module
(static/common/format.js) give the same text for the same value."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from webapp.studio import figures

FORMAT_JS = Path(__file__).resolve().parents[2] / "static" / "common" / "format.js"
VALUES = {
    "count": [0, 7, 999, 999.4, 999.6, 1000, 1125, 9_995, 12_345, 99_949, 99_950, 567_058, 999_499, 999_950, 1_234_567,
              36_912_345, 138_674_688, 2_500_000_000, -4_321, None, ""],
    "exact": [0, 1000, 567_058, 138_674_688, None],
    "ms": [0.004, 0.125, 0.995, 1.0, 4.55, 12.04, 19.75, 99.96, 123.4, 1_234.5, None],
    "percent": [0, 0.123, 0.8125, 1, None],
    "accuracy": [0, 0.5, 0.8125, 0.81234, 0.99999, 1, None],
    "generation": [0, 1, 9, None],
}


def browser_texts() -> dict[str, list[str]]:
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "these tests need Node.js to run static/common/format.js (apt-get install nodejs)"
    script = (f"import * as f from {json.dumps(FORMAT_JS.as_uri())};"
              "const values = JSON.parse(process.argv[1]);"
              "const out = {}; for (const [name, list] of Object.entries(values)) out[name] = list.map((v) => String(f[name](v)));"
              "console.log(JSON.stringify(out));")
    run = subprocess.run([node, "--input-type=module", "-e", script, json.dumps(VALUES)], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def test_the_server_and_the_browser_print_every_number_alike():
    browser = browser_texts()
    for name, values in VALUES.items():
        server = [str(getattr(figures, name)(v)) for v in values]
        assert server == browser[name], name


@pytest.mark.parametrize(("value", "text"), [(567_058, "567 k"), (138_674_688, "139 M"), (1_234_567, "1.23 M"),
                                             (999_950, "1.00 M"), (999, "999"), (None, "–")])
def test_counts_have_three_significant_figures_and_a_unit(value, text):
    assert figures.count(value) == text


def test_accuracy_is_a_percentage_latency_has_sensible_decimals_and_generations_count_from_one():
    assert figures.accuracy(0.8125) == "81.3 %"
    assert [figures.ms(v) for v in (0.237, 12.04, 123.4)] == ["0.24 ms", "12.0 ms", "123 ms"]
    assert figures.generation(0) == 1
