"""benchmarks/latency.py: its timings cover every input a snip is read from: three glyph sizes,
and a fourth at low zoom."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import latency  # noqa: E402


@pytest.mark.parametrize(
    "zoom, inputs, flags", [(1.0, 3, []), (0.3, 4, []), (1.0, 1, ["--one-size"])]
)
def test_latency_of_snips_at_a_zoom(tmp_path, monkeypatch, capsys, zoom, inputs, flags):
    out = tmp_path / "latency.json"
    monkeypatch.setenv("TEXSNAP_THREADS", "2")  # main() sets it; restored after the test
    argv = ["latency.py", "--random", "--images", "2", "--repeats", "1", "--beam", "2", *flags]
    monkeypatch.setattr(
        sys, "argv", [*argv, "--batch", "2", "--zoom", str(zoom), "--json", str(out)]
    )
    assert latency.main() == 0
    result = json.loads(out.read_text())
    assert (result["zoom"], result["inputs_median"], result["images"]) == (zoom, inputs, 2)
    assert result["greedy"]["median_ms"] > 0
    said = capsys.readouterr().out
    assert f"each read at {inputs} glyph sizes" in said
    assert ("shrunk to 0.3" in said) == (zoom != 1)
