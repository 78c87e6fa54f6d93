"""Corrupt run files, checkpoints and configs at the application layer and the command line:
each gives a typed error (a one-line ``drats: error:`` and exit status 2 on the command line)
instead of a traceback (found by an adversarial audit)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

from drats import CheckpointError, ConfigError
from drats.application.checkpoint import read_checkpoint
from drats.application.config import TrainConfig
from drats.cli import main

SHORT = ["--steps", "1024", "--eval-every", "1024", "--no-progress", "--threads", "1"]


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("drats: error: ")
    return err[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny finished run (its checkpoint is copied and damaged by the tests)."""
    run = tmp_path_factory.mktemp("app") / "run"
    assert main(["train", "--out", str(run), *SHORT]) == 0
    return run


def rewrite(src: Path, dst: Path, edit: Any) -> Path:
    """Copy the checkpoint ``src`` to ``dst`` with ``edit(flat_dict)`` applied to its arrays."""
    with np.load(src, allow_pickle=False) as data:
        flat = {key: data[key] for key in data.files}
    edit(flat)
    np.savez(dst, **flat)
    return dst


def checkpoint_of(run: Path) -> Path:
    return sorted((run / "checkpoints").glob("*.npz"))[-1]


# ------------------------------------------------------------------------ checkpoint files


def test_a_bare_array_under_a_checkpoint_name(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint-1.npz"
    with path.open("wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(CheckpointError, match="is a single array, not a drats checkpoint"):
        read_checkpoint(path)


def test_an_array_header_declaring_terabytes(tmp_path: Path) -> None:
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        member, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    member.write(b"\0" * 64)
    path = tmp_path / "checkpoint-1.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.npy", member.getvalue())
    with pytest.raises(
        CheckpointError, match=r"checkpoint-1\.npz (declares arrays too large|is corrupt)"
    ):
        read_checkpoint(path)


def test_a_deeply_nested_meta_entry(run_dir: Path, tmp_path: Path) -> None:
    def nest(flat: dict[str, Any]) -> None:
        flat["meta"] = np.array("[" * 100_000 + "]" * 100_000)

    path = rewrite(checkpoint_of(run_dir), tmp_path / "checkpoint-1.npz", nest)
    with pytest.raises(CheckpointError, match="corrupt meta entry"):
        read_checkpoint(path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("policy", r"lacks part\(s\) \['policy'\]"),
        ("config", r"has no \['config'\] in its meta entry"),
        ("env_steps", r"has no \['env_steps'\] in its meta entry"),
    ],
)
def test_eval_of_an_incomplete_checkpoint(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, message: str
) -> None:
    def drop(flat: dict[str, Any]) -> None:
        if damage == "policy":
            for key in [k for k in flat if k.startswith("policy.")]:
                del flat[key]
        else:
            meta = json.loads(str(flat["meta"]))
            del meta[damage]
            flat["meta"] = np.array(json.dumps(meta))

    path = rewrite(checkpoint_of(run_dir), tmp_path / "checkpoint-1.npz", drop)
    capsys.readouterr()
    assert main(["eval", str(path), "--episodes", "1"]) == 2
    assert re.search(message, one_line_error(capsys))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("steps_per_task", lambda a: a - 10**6, "negative trainer counters"),
        ("obs", lambda a: a * np.nan, "trainer 'obs' must be finite"),
    ],
)
def test_resume_from_bad_trainer_counters(
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    key: str,
    value: Any,
    message: str,
) -> None:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text((run_dir / "config.json").read_text())
    src = checkpoint_of(run_dir)

    def damage(flat: dict[str, Any]) -> None:
        flat[f"trainer.{key}"] = value(flat[f"trainer.{key}"])

    rewrite(src, run / "checkpoints" / src.name, damage)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    assert message in one_line_error(capsys)


# ------------------------------------------------------------------------------ train --out


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("x")
    assert main(["train", "--out", str(tmp_path / "afile"), *SHORT]) == 2
    assert "is a file, not a run directory" in one_line_error(capsys)
    assert main(["train", "--out", str(tmp_path / "afile" / "sub"), *SHORT]) == 2
    assert "cannot create the run directory" in one_line_error(capsys)


def test_a_run_refused_when_built_leaves_no_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), *SHORT, "--device", "cuda:99"]) == 2
    one_line_error(capsys)
    assert not run.exists()


# ------------------------------------------------------------------------------ config.json


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("steps", "abc"),
        ("steps", True),
        ("seed", "x"),
        ("suite", 5),
        ("per", 1),
        ("updates_per_step", "1"),
        ("sampler_options", []),
    ],
)
def test_config_json_fields_must_have_their_types(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"^{field} must be of type"):
        TrainConfig.from_json(json.dumps({field: value}))


def test_config_json_ints_are_floats_where_floats_are_wanted() -> None:
    config = TrainConfig.from_json(
        json.dumps({"algo": "sac", "updates_per_step": 2, "per_alpha": 1})
    )
    assert config.updates_per_step == 2


# ------------------------------------------------------------------------------------ plot


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (b'{"env_steps": 1, "q": [0.5, 0.5]}\n\xff\xfe\n', "is not UTF-8 text"),
        (b'{"env_steps": 1}\n', "row 1 is not a drats metrics row"),
        (b'{"env_steps": 1, "q": [0.5, 0.5]}\n{"env_steps": 2, "q": 3}\n', "row 2 is not"),
        (b'{"env_steps": 1, "q": [0.5, 0.5], "eval_success": [1]}\n', "row 1 is not"),
    ],
)
def test_plot_of_a_corrupt_metrics_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: bytes, message: str
) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "metrics.jsonl").write_bytes(rows)
    assert main(["plot", str(tmp_path)]) == 2
    assert message in one_line_error(capsys)


@pytest.mark.parametrize(
    ("out", "message"),
    [("missing/curves.png", "does not exist"), ("curves.foo", "the file type must be one of")],
)
def test_plot_out_must_be_writable(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str, message: str
) -> None:
    pytest.importorskip("matplotlib")
    assert main(["plot", str(run_dir), "--out", str(tmp_path / out)]) == 2
    assert message in one_line_error(capsys)


@pytest.mark.parametrize("hidden", ["abc", [0], [32.5]])
def test_learner_options_from_config_json_are_checked(hidden: object) -> None:
    from drats.bootstrap import build

    config = TrainConfig.from_json(json.dumps({"learner_options": {"hidden": hidden}}))
    with pytest.raises(ConfigError, match="ppo hidden"):
        build(config)
