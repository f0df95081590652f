"""Sharded grading (issue 21): grade --shard I/N, then merge, equals one unsharded run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from normcourse import shards
from normcourse.cli import main

sys.path.insert(0, str(Path(__file__).parent / "grading_corpus"))
import corpus  # noqa: E402


def test_slices_cover_the_sorted_list_once():
    paths = [f"s{i:02d}.ipynb" for i in (5, 3, 9, 1, 7, 2, 8)]
    parts = [shards.select(paths, f"{i}/3") for i in (1, 2, 3)]
    assert parts[0] == ["s01.ipynb", "s05.ipynb", "s09.ipynb"]
    assert sorted(p for part in parts for p in part) == sorted(paths)
    assert shards.select(paths, "1/1") == sorted(paths)
    assert shards.select(paths[:1], "2/2") == []


@pytest.mark.parametrize("spec", ["0/3", "4/3", "3", "a/b", "", "1/0"])
def test_bad_shard_spec(spec):
    with pytest.raises(shards.ShardError, match="I/N"):
        shards.parse(spec)


def _shard(tmp_path, index, count, of="abc", seed=7, subs=()):
    path = tmp_path / f"shard-{index}-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps({
        "format": "normcourse-grades", "version": 1, "isolated": True, "complete": True,
        "submissions": [{"submission": s, "lesson": None, "graded": False, "error": "empty file",
                         "score": 0, "max_score": 0, "exercises": [], "notes": [],
                         "seconds": 0.1, "seed": None} for s in subs],
        "shard": {"index": index, "count": count, "seed": seed, "of": of, "total": 3}}))
    return str(path)


def test_merge_names_missing_and_duplicated_shards(tmp_path, capsys):
    one, three = _shard(tmp_path, 1, 3), _shard(tmp_path, 3, 3)
    again = _shard(tmp_path, 3, 3)
    assert main(["merge", one, three, again, "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert f"shard 3/3 given twice ({three}, {again})" in err and "missing shard 2/3" in err
    assert not (tmp_path / "m.json").exists()
    assert main(["merge", one, one]) == 2  # the same file twice
    assert "shard 1/3 given twice" in capsys.readouterr().err


def test_merge_refuses_shards_of_different_runs(tmp_path, capsys):
    a, b = _shard(tmp_path, 1, 2, seed=7), _shard(tmp_path, 2, 2, seed=8)
    assert main(["merge", a, b]) == 2
    assert "different runs" in capsys.readouterr().err
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"format": "normcourse-grades", "submissions": []}))
    assert main(["merge", a, str(plain)]) == 2
    assert "not a shard" in capsys.readouterr().err


def test_merge_orders_like_a_sorted_run(tmp_path, capsys):
    a = _shard(tmp_path, 1, 2, subs=["a.ipynb", "c.ipynb"])
    b = _shard(tmp_path, 2, 2, subs=["b.ipynb"])
    assert main(["merge", b, a, "--out", str(tmp_path / "m.json")]) == 1  # none graded
    data = json.loads((tmp_path / "m.json").read_text())
    assert [s["submission"] for s in data["submissions"]] == ["a.ipynb", "b.ipynb", "c.ipynb"]
    assert "shard" not in data


def test_shard_needs_json(tmp_path, capsys):
    assert main(["grade", "x.ipynb", "--shard", "1/2"]) == 2
    assert "--format json" in capsys.readouterr().err


def _without_seconds(text: str) -> dict:
    data = json.loads(text)
    for s in data["submissions"]:
        s["seconds"] = 0
    return data


@pytest.mark.slow
def test_sharded_then_merged_equals_unsharded(tmp_path, monkeypatch):
    """Two notebooks of the corpus and a broken file, graded in one run and in 2 shards
    with the same seed: the merged JSON and CSV equal the unsharded ones."""
    names = ["solution", "wrong_answers", "empty"]
    for name in names:
        (tmp_path / f"{name}.ipynb").write_bytes(
            next(c for c in corpus.CASES if c.name == name).build())
    monkeypatch.chdir(tmp_path)
    subs = sorted(f"{n}.ipynb" for n in names)
    common = ["--seed", "11", "--jobs", "2", "--format", "json", "--timeout", "120"]
    assert main(["grade", *subs, *common, "--out", "whole.json"]) == 1  # empty: not graded
    for i in (1, 2):  # the shell's order does not matter
        assert main(["grade", *reversed(subs), *common, "--shard", f"{i}/2",
                     "--out", f"shard-{i}.json"]) in (0, 1)
    assert main(["merge", "shard-2.json", "shard-1.json", "--out", "merged.json"]) == 1
    whole = _without_seconds(Path("whole.json").read_text())
    assert _without_seconds(Path("merged.json").read_text()) == whole
    assert {s["submission"]: s["score"] for s in whole["submissions"]} == {
        "empty.ipynb": 0, "solution.ipynb": corpus.MAX, "wrong_answers.ipynb": 0}
    wrong = next(s for s in whole["submissions"] if s["submission"] == "wrong_answers.ipynb")
    assert {c["mistake"] for e in wrong["exercises"] for c in e["cases"]} >= {
        "ex1_gradient/missing-factor-2"}
    assert main(["grade", *subs, *common[:-2], "--format", "csv", "--out", "whole.csv"]) == 1
    assert main(["merge", "shard-1.json", "shard-2.json", "--format", "csv",
                 "--out", "merged.csv"]) == 1
    assert Path("merged.csv").read_text() == Path("whole.csv").read_text()
