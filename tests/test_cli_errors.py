"""The command line's bad input: every mistake is one line on stderr and exit status 2, the line names the
flag or the file, there is no traceback, and nothing that existed is overwritten.

Most cases run `tinygrad_tx.__main__.main` in this process (a subprocess costs half a second each); one runs
``python -m tinygrad_tx`` for real. The runs these cases need (a checkpoint, a fine-tune) are trained once per
module with a tiny model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import assert_one_line_error
from tests.helpers import run_cli as run
from tinygrad_tx.__main__ import _parser, main
from tinygrad_tx.data import default_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--steps", "2", "--block-size", "8", "--n-layer", "1", "--n-head", "2", "--n-embd", "8", "--batch-size", "2",
        "--eval-interval", "2", "--eval-iters", "1", "--no-torch", "--no-progress", "--sample-length", "0"]


def snapshot(folder: str) -> dict[str, bytes]:
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, str]:
    """A corpus, a trained run (``ckpt.npz``), a fine-tune of it (``lora.npz``, ``merged.npz``), a regular
    file and a folder."""
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus.txt"
    corpus.write_text(default_corpus()[:5_000], encoding="utf-8")
    train_dir, ft_dir = str(root / "run"), str(root / "ft")
    assert main(["train", "--data", str(corpus), "--out-dir", train_dir, *TINY]) == 0
    ckpt = os.path.join(train_dir, "ckpt.npz")
    assert main(["finetune", "--checkpoint", ckpt, "--data", str(corpus), "--out-dir", ft_dir, "--steps", "2",
                 "--batch-size", "2", "--no-progress"]) == 0
    merged_run = root / "merged_run"
    merged_run.mkdir()
    shutil.copy(os.path.join(ft_dir, "merged.npz"), merged_run / "ckpt.npz")
    lora_run = root / "lora_run"
    lora_run.mkdir()
    shutil.copy(os.path.join(ft_dir, "lora.npz"), lora_run / "ckpt.npz")
    (root / "file.txt").write_text("not a folder\n")
    (root / "tiny.txt").write_text("the cat", encoding="utf-8")
    (root / "folder").mkdir()
    return {"corpus": str(corpus), "run": train_dir, "ckpt": ckpt, "ft": ft_dir, "merged_run": str(merged_run),
            "lora_run": str(lora_run), "file": str(root / "file.txt"), "tiny": str(root / "tiny.txt"),
            "folder": str(root / "folder"), "root": str(root)}


def fill(args: list[str], runs: dict[str, str]) -> list[str]:
    return [a.format(**runs) for a in args]


# ---------------------------------------------------------------------------------------------------- train

TRAIN_BAD = [
    (["--activation", "swish"], "--activation"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "fast"], "--lr"),
    (["--lr", "-1e-3"], "must be > 0"),  # a value, not an option that argparse does not know
    (["--min-lr", "-inf"], "must be finite"),
    (["--min-lr", "-0.0001"], "--min-lr"),
    (["--min-lr", "0.01"], "--min-lr"),  # above --lr (3e-3): the schedule would rise
    (["--dropout", "1.5"], "--dropout"),
    (["--dropout", "1"], "--dropout"),
    (["--dropout", "-0.1"], "--dropout"),
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**64)], "--seed"),
    (["--eval-interval", "0"], "--eval-interval"),
    (["--eval-iters", "0"], "--eval-iters"),
    (["--grad-clip", "-1"], "--grad-clip"),
    (["--grad-clip", "nan"], "--grad-clip"),
    (["--weight-decay", "-0.1"], "--weight-decay"),
    (["--weight-decay", "1000"], "--weight-decay"),  # lr · weight decay >= 1 flips the weights' sign
    (["--warmup-steps", "-1"], "--warmup-steps"),
    (["--steps", "0"], "--steps"),
    (["--steps", "2.5"], "--steps"),
    (["--batch-size", "0"], "--batch-size"),
    (["--block-size", "0"], "--block-size"),
    (["--n-layer", "0"], "--n-layer"),
    (["--n-head", "0"], "--n-head"),
    (["--n-embd", "0"], "--n-embd"),
    (["--n-embd", "9"], "--n-head"),  # 9 is not divisible by --n-head 2
    (["--dtype", "float16"], "--dtype"),
    (["--sample-length", "-1"], "--sample-length"),
    (["--stop-after", "0"], "--stop-after"),
    (["--resume"], "--resume"),  # with --overwrite
    (["--bogus"], "--bogus"),
    (["--data", "{folder}"], "{folder}"),
    (["--data", "{root}/missing.txt"], "missing.txt"),
    (["--out-dir", "{file}"], "--out-dir"),  # an existing regular file
    (["--out-dir", "{file}/run"], "--out-dir"),  # below a regular file: cannot be created
    (["--out-dir", "/proc/tinygrad_tx_cannot_exist/run"], "--out-dir"),
]


@pytest.mark.parametrize("bad, name", TRAIN_BAD, ids=[" ".join(b) for b, _ in TRAIN_BAD])
def test_train_bad_flag_is_one_line_and_overwrites_nothing(capsys, runs, bad, name) -> None:
    before = snapshot(runs["run"])
    code, out, err = run(capsys, "train", "--data", runs["corpus"], "--out-dir", runs["run"], "--overwrite", *TINY,
                         *fill(bad, runs))
    line = assert_one_line_error(code, err, name.format(**runs))
    assert "--max-steps" not in line
    assert "step 2" not in out  # refused before training
    assert snapshot(runs["run"]) == before


def test_unwritable_out_dir_is_found_before_training(capsys, runs, tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        probe = locked / "probe"
        try:
            probe.write_text("")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("this user (root?) can write into a folder with mode 0500")
        code, out, err = run(capsys, "train", "--data", runs["corpus"], "--out-dir", str(locked), *TINY)
        assert_one_line_error(code, err, "--out-dir", str(locked))
        assert "step 2" not in out
    finally:
        os.chmod(locked, 0o700)


RESUME_BAD = [
    (["--out-dir", "{merged_run}"], "{merged_run}"),  # a merged LoRA checkpoint holds no training state
    (["--out-dir", "{lora_run}"], "{lora_run}"),  # LoRA weights alone
    (["--out-dir", "{root}/never_trained"], "never_trained"),
    (["--out-dir", "{run}", "--n-embd", "16"], "--n-embd"),  # the architecture cannot change
    (["--out-dir", "{run}", "--activation", "relu"], "--activation"),
    (["--out-dir", "{run}", "--dtype", "float64"], "--dtype"),
    (["--out-dir", "{run}", "--batch-size", "3"], "--batch-size"),
    (["--out-dir", "{run}", "--seed", "5"], "--seed"),
    (["--out-dir", "{run}", "--data", "{tiny}"], "{tiny}"),
]


@pytest.mark.parametrize("bad, name", RESUME_BAD, ids=[" ".join(b) for b, _ in RESUME_BAD])
def test_resume_that_cannot_continue_is_one_line(capsys, runs, bad, name) -> None:
    before = {k: snapshot(runs[k]) for k in ("run", "merged_run", "lora_run")}
    code, out, err = run(capsys, "train", "--resume", "--no-torch", "--no-progress", "--sample-length", "0",
                         "--steps", "4", *fill(bad, runs))
    assert_one_line_error(code, err, name.format(**runs))
    assert {k: snapshot(runs[k]) for k in before} == before


# --------------------------------------------------------------------------------------------------- sample

SAMPLE_BAD = [
    (["--temperature", "nan"], "--temperature"),
    (["--temperature", "inf"], "--temperature"),
    (["--temperature", "-1"], "--temperature"),
    (["--temperature", "-1E-2"], "must be >= 0"),
    (["--top-k", "0"], "--top-k"),
    (["--length", "-1"], "--length"),
    (["--seed", "-1"], "--seed"),
    (["--prompt", ""], "--prompt"),
    (["--prompt", "日本"], "--prompt"),  # outside the vocabulary
    (["--checkpoint", "{root}/missing.npz"], "missing.npz"),
    (["--checkpoint", "{folder}"], "{folder}"),
    (["--checkpoint", "{corpus}"], "{corpus}"),  # not a checkpoint
    (["--checkpoint", "{ft}/lora.npz"], "lora.npz"),
]


@pytest.mark.parametrize("bad, name", SAMPLE_BAD, ids=[" ".join(b) for b, _ in SAMPLE_BAD])
def test_sample_bad_flag_is_one_line(capsys, runs, bad, name) -> None:
    code, out, err = run(capsys, "sample", "--checkpoint", runs["ckpt"], "--length", "3", *fill(bad, runs))
    assert_one_line_error(code, err, name.format(**runs))
    assert out == ""


# ------------------------------------------------------------------------------------------------- finetune

FINETUNE_BAD = [
    (["--batch-size", "0"], "--batch-size"),
    (["--steps", "0"], "--steps"),
    (["--rank", "0"], "--rank"),
    (["--alpha", "nan"], "--alpha"),
    (["--alpha", "0"], "--alpha"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--seed", "-1"], "--seed"),
    (["--targets", "c_atn"], "c_atn"),
    (["--targets", "c_attn,c_atn"], "c_atn"),  # one good name must not hide a bad one
    (["--targets", ","], "--targets"),
    (["--data", "{tiny}"], "{tiny}"),  # shorter than the checkpoint's context
    (["--data", "{root}/missing.txt"], "missing.txt"),
    (["--checkpoint", "{ft}/lora.npz"], "lora.npz"),
    (["--out-dir", "{file}"], "--out-dir"),
    (["--out-dir", "{file}/ft"], "--out-dir"),
]


@pytest.mark.parametrize("bad, name", FINETUNE_BAD, ids=[" ".join(b) for b, _ in FINETUNE_BAD])
def test_finetune_bad_flag_is_one_line_and_overwrites_nothing(capsys, runs, bad, name) -> None:
    before = snapshot(runs["ft"])
    code, out, err = run(capsys, "finetune", "--checkpoint", runs["ckpt"], "--data", runs["corpus"], "--out-dir",
                         runs["ft"], "--overwrite", "--steps", "2", "--batch-size", "2", "--no-progress",
                         *fill(bad, runs))
    line = assert_one_line_error(code, err, name.format(**runs))
    assert "--block-size" not in line  # finetune has no such flag
    assert snapshot(runs["ft"]) == before


def test_finetune_on_a_tiny_file_names_the_file_and_the_context(capsys, runs) -> None:
    code, _, err = run(capsys, "finetune", "--checkpoint", runs["ckpt"], "--data", runs["tiny"], "--out-dir",
                       os.path.join(runs["root"], "ft_tiny"), "--no-progress")
    line = assert_one_line_error(code, err, runs["tiny"], "context")
    assert "--block-size" not in line


# ---------------------------------------------------------------------------------------------------- check

CHECK_BAD = [
    (["--batch-size", "0"], "--batch-size"),
    (["--n-layer", "0"], "--n-layer"),  # was silently replaced by the default
    (["--n-embd", "0"], "--n-embd"),
    (["--vocab-size", "0"], "--vocab-size"),
    (["--block-size", "0"], "--block-size"),
    (["--n-embd", "10", "--n-head", "3"], "--n-head"),
    (["--lora", "--lora-rank", "0"], "--lora-rank"),
    (["--lora", "--lora-alpha", "nan"], "--lora-alpha"),
    (["--lora", "--lora-targets", "c_atn"], "c_atn"),
    (["--lora", "--lora-targets", "c_attn,c_atn"], "c_atn"),
    (["--lora-rank", "3"], "--lora"),  # without --lora it would be ignored
    (["--rtol", "0"], "--rtol"),
    (["--rtol", "nan"], "--rtol"),
    (["--seed", "-1"], "--seed"),
    (["--dtype", "float16"], "--dtype"),
    (["--checkpoint", "{root}/missing.npz"], "missing.npz"),
    (["--checkpoint", "{folder}"], "{folder}"),
    (["--checkpoint", "{ckpt}", "--block-size", "9"], "--block-size"),  # longer than its context of 8
    (["--checkpoint", "{ckpt}", "--n-layer", "3"], "--n-layer"),
]


@pytest.mark.parametrize("bad, name", CHECK_BAD, ids=[" ".join(b) for b, _ in CHECK_BAD])
def test_check_bad_flag_is_one_line(capsys, runs, bad, name) -> None:
    size = [] if "--checkpoint" in bad else ["--n-layer", "1", "--n-embd", "8", "--n-head", "2", "--block-size", "4",
                                             "--vocab-size", "5"]
    code, out, err = run(capsys, "check", "--end-to-end-only", *size, *fill(bad, runs))
    assert_one_line_error(code, err, name.format(**runs))


# -------------------------------------------------------------------------------------------- all commands


def test_no_command_and_an_unknown_command_are_one_line(capsys) -> None:
    assert_one_line_error(*run(capsys)[::2], "command")
    assert_one_line_error(*run(capsys, "trian")[::2], "trian")


def test_the_real_command_line_exits_2_with_one_line(runs) -> None:
    result = subprocess.run([sys.executable, "-m", "tinygrad_tx", "train", "--lr", "-1", "--out-dir", runs["run"]],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert_one_line_error(result.returncode, result.stderr, "--lr")
    assert result.stderr.strip() == "tinygrad-tx train: error: argument --lr: must be > 0, got -1"


@pytest.mark.parametrize("command", ["train", "sample", "finetune", "check"])
def test_every_option_has_help_with_its_default(command) -> None:
    parser = _parser()._subparsers._group_actions[0].choices[command]
    formatter = parser._get_formatter()
    for action in parser._actions:
        if action.option_strings == ["-h", "--help"]:
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        text = formatter._expand_help(action)
        if action.nargs != 0 and not action.required:  # an optional value says what it is when not given
            assert "default" in text, f"{command} {action.option_strings[0]}: {text!r} shows no default"
        assert "default: None" not in text and "default: False" not in text, text
