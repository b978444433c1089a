"""Training, checkpoints, resume, LoRA fine-tuning, sampling and the command line's error handling."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from tinygrad_tx.checkpoint import FORMAT, CheckpointError, _digest, load_checkpoint, save_checkpoint
from tinygrad_tx.data import CharTokenizer, DataError, default_corpus, train_val_split
from tinygrad_tx.train import TrainConfig, TrainError, finetune, load_model, sample, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data") / "corpus.txt"
    path.write_text(default_corpus()[:30_000], encoding="utf-8")
    return str(path)


def small_config(corpus: str, out_dir: str, **kw) -> TrainConfig:
    base = dict(data=corpus, out_dir=out_dir, block_size=16, n_layer=1, n_head=2, n_embd=16, batch_size=4,
                max_steps=20, warmup_steps=4, eval_interval=5, eval_iters=2, compare_torch=False, progress=False,
                sample_length=0, dropout=0.1, dtype="float64")
    base.update(kw)
    return TrainConfig(**base)


def test_default_corpus_needs_no_download() -> None:
    text = default_corpus()
    assert len(text) > 400_000 and "def" in text


def test_tokenizer_round_trip_and_unknown_characters() -> None:
    tok = CharTokenizer.from_text("hello world")
    assert tok.decode(tok.encode("low")) == "low"
    with pytest.raises(DataError, match=r"'Z' \(U\+005A\)"):
        tok.encode("hello Z")


def test_split_refuses_a_corpus_shorter_than_the_block() -> None:
    with pytest.raises(DataError, match="too short"):
        train_val_split(np.arange(20), 0.1, block_size=16)


@pytest.mark.slow
def test_resume_reproduces_the_uninterrupted_run_exactly(corpus, tmp_path) -> None:
    full = train(small_config(corpus, str(tmp_path / "full")))
    part = train(small_config(corpus, str(tmp_path / "part"), stop_after=8))
    assert part["interrupted"] and part["step"] == 8
    resumed = train(small_config(corpus, str(tmp_path / "part")), resume=True)
    assert resumed["history"]["loss"] == full["history"]["loss"]  # the same trajectory, bit for bit
    a = load_checkpoint(str(tmp_path / "full" / "ckpt.npz"))
    b = load_checkpoint(str(tmp_path / "part" / "ckpt.npz"))
    for name, value in a["model"].items():
        np.testing.assert_array_equal(value, b["model"][name])
    assert full["val_loss"] < full["baseline"] + 1.0  # it trains (a short run on a tiny model)


def test_resume_with_another_config_is_refused(corpus, tmp_path) -> None:
    train(small_config(corpus, str(tmp_path), stop_after=2))
    with pytest.raises(CheckpointError, match=r"another config.*--n-embd 32 \(checkpoint: 16\)"):
        train(small_config(corpus, str(tmp_path), n_embd=32), resume=True, explicit={"n_embd"})


def test_existing_checkpoint_is_not_overwritten_without_asking(corpus, tmp_path) -> None:
    from tinygrad_tx.train import TrainError

    train(small_config(corpus, str(tmp_path), stop_after=2))
    before = (tmp_path / "ckpt.npz").read_bytes()
    with pytest.raises(TrainError, match="already exists"):
        train(small_config(corpus, str(tmp_path)))
    assert (tmp_path / "ckpt.npz").read_bytes() == before


def test_checkpoint_round_trip_is_bit_exact(tmp_path) -> None:
    rng = np.random.default_rng(0)
    state = {"kind": "x", "a": rng.standard_normal((3, 4)), "nested": {"b": [rng.standard_normal(2), 5, "s"]},
             "big": 2**100}
    path = str(tmp_path / "c.npz")
    save_checkpoint(path, state)
    back = load_checkpoint(path)
    np.testing.assert_array_equal(back["a"], state["a"])
    np.testing.assert_array_equal(back["nested"]["b"][0], state["nested"]["b"][0])
    assert back["nested"]["b"][1:] == [5, "s"] and back["big"] == 2**100


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupted_checkpoint_is_refused_whole(tmp_path, damage) -> None:
    path = tmp_path / "c.npz"
    save_checkpoint(str(path), {"w": np.arange(1000.0)})
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
    else:
        raw = bytearray(b"not a checkpoint at all")
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupted|not a tinygrad_tx checkpoint"):
        load_checkpoint(str(path))


@pytest.mark.slow
def test_a_kill_during_save_leaves_the_previous_checkpoint_loadable(tmp_path) -> None:
    path = str(tmp_path / "c.npz")
    save_checkpoint(path, {"generation": 0, "w": np.zeros(10)})
    script = (
        "import numpy as np, sys\n"
        "from tinygrad_tx.checkpoint import save_checkpoint\n"
        "big = np.random.default_rng(0).standard_normal(20_000_000)\n"
        "print('ready', flush=True)\n"
        "i = 1\n"
        "while True:\n"
        "    save_checkpoint(sys.argv[1], {'generation': i, 'w': big})\n"
        "    i += 1\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, path], stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(1.5)  # several saves of 160 MB: the kill lands in the middle of one
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = load_checkpoint(path)  # whichever complete save came last
    assert state["generation"] >= 0


@pytest.mark.slow
def test_finetune_trains_only_lora_and_keeps_base_bit_identical(corpus, tmp_path) -> None:
    train(small_config(corpus, str(tmp_path / "base"), max_steps=200, lr=1e-2, dropout=0.0, eval_interval=100))
    other = tmp_path / "other.txt"
    other.write_text(("the quick brown fox jumps over the lazy dog. " * 300), encoding="utf-8")
    base_ckpt = str(tmp_path / "base" / "ckpt.npz")
    result = finetune(base_ckpt, str(other), str(tmp_path / "ft"), rank=4, alpha=8.0, steps=150, lr=2e-2,
                      batch_size=4, eval_iters=4, progress=False)
    assert result["base_unchanged"]
    assert result["val_after"] < result["val_before"] - 0.05
    assert result["trainable"] < 0.2 * result["total"]
    merged, _, _ = load_model(result["merged_path"])
    base, _, _ = load_model(base_ckpt)
    changed = [n for (n, p), (_, q) in zip(merged.named_parameters(), base.named_parameters())
               if not np.array_equal(p.data, q.data)]
    assert changed and all("c_attn" in n or "c_proj" in n for n in changed)
    lora = load_checkpoint(result["lora_path"])
    assert set(lora["weights"]) and all(k.endswith(("lora_A", "lora_B")) for k in lora["weights"])


def test_sample_is_deterministic_for_a_seed(corpus, tmp_path) -> None:
    train(small_config(corpus, str(tmp_path), max_steps=5))
    ckpt = str(tmp_path / "ckpt.npz")
    a = sample(ckpt, "The ", 40, temperature=1.0, top_k=10, seed=3)
    assert a == sample(ckpt, "The ", 40, temperature=1.0, top_k=10, seed=3)
    assert a.startswith("The ") and len(a) == 44


def run_cli(*args: str, cwd: str = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygrad_tx", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "/nonexistent/file.txt", "--out-dir", "{tmp}"], "no such file"),
        (["train", "--data", "{empty}", "--out-dir", "{tmp}"], "the file is empty"),
        (["train", "--data", "{short}", "--out-dir", "{tmp}"], "too short"),
        (["sample", "--checkpoint", "{tmp}/missing.npz"], "no such checkpoint"),
        (["sample", "--checkpoint", "{garbage}"], "corrupted or not a tinygrad_tx checkpoint"),
        (["train", "--n-embd", "30", "--n-head", "4", "--out-dir", "{tmp}"], "divisible"),
    ],
)
def test_cli_bad_input_is_one_clear_line(tmp_path, args, message) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "short.txt").write_text("abc" * 10)
    (tmp_path / "garbage.npz").write_bytes(b"\x00" * 100)
    fill = {"{tmp}": str(tmp_path / "run"), "{empty}": str(tmp_path / "empty.txt"),
            "{short}": str(tmp_path / "short.txt"), "{garbage}": str(tmp_path / "garbage.npz")}
    args = [fill.get(a, a) if not a.startswith("{tmp}/") else a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "run" / "ckpt.npz")


@pytest.mark.slow
def test_cli_prompt_outside_vocabulary_and_resume_mismatch(corpus, tmp_path) -> None:
    out = str(tmp_path / "run")
    ok = run_cli("train", "--data", corpus, "--out-dir", out, "--steps", "3", "--block-size", "8", "--n-layer", "1",
                 "--n-embd", "8", "--n-head", "2", "--batch-size", "2", "--no-torch", "--no-progress",
                 "--sample-length", "0", "--eval-interval", "3", "--eval-iters", "1")
    assert ok.returncode == 0, ok.stderr
    before = open(os.path.join(out, "ckpt.npz"), "rb").read()
    bad = run_cli("sample", "--checkpoint", os.path.join(out, "ckpt.npz"), "--prompt", "日本")
    assert bad.returncode == 2 and "not in the vocabulary" in bad.stderr and "Traceback" not in bad.stderr
    mismatch = run_cli("train", "--data", corpus, "--out-dir", out, "--resume", "--n-embd", "16", "--n-head", "2")
    assert mismatch.returncode == 2 and "another config" in mismatch.stderr
    again = run_cli("train", "--data", corpus, "--out-dir", out)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert open(os.path.join(out, "ckpt.npz"), "rb").read() == before  # nothing overwritten


# ------------------------------------------------------------------------------- resume, recipe, checkpoints


def test_resume_uses_the_hyperparameters_given_and_says_so(corpus, tmp_path, capsys) -> None:
    train(small_config(corpus, str(tmp_path), stop_after=4))
    capsys.readouterr()
    cfg = small_config(corpus, str(tmp_path), lr=1e-3, eval_interval=3, weight_decay=0.05, max_steps=9)
    summary = train(cfg, resume=True, explicit={"lr", "eval_interval", "weight_decay", "max_steps"})
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("resuming"))
    assert "--lr 0.001 (checkpoint: 0.003)" in line and "--eval-interval 3 (checkpoint: 5)" in line
    assert "--weight-decay 0.05 (checkpoint: 0.1)" in line and "--steps 9 (checkpoint: 20)" in line
    assert summary["step"] == 9 and [s for s, _ in summary["history"]["val"]] == [6, 9]  # not 5: every 3 steps
    saved = load_checkpoint(str(tmp_path / "ckpt.npz"))
    assert saved["train_config"]["lr"] == 1e-3 and saved["train_config"]["eval_interval"] == 3
    groups = saved["optimizer"]["param_groups"]
    assert groups[0]["weight_decay"] == 0.05 and groups[1]["weight_decay"] == 0.0  # matrices only, as before


def test_resume_without_flags_takes_everything_from_the_checkpoint(corpus, tmp_path, capsys) -> None:
    train(small_config(corpus, str(tmp_path), stop_after=2, lr=1e-3, eval_interval=2))
    cfg = small_config(corpus, str(tmp_path))  # other values, but none given explicitly
    train(cfg, resume=True)
    assert cfg.lr == 1e-3 and cfg.eval_interval == 2
    assert "from the command line instead" not in capsys.readouterr().out


def test_resume_and_overwrite_together_are_refused(corpus, tmp_path) -> None:
    train(small_config(corpus, str(tmp_path), stop_after=2))
    before = (tmp_path / "ckpt.npz").read_bytes()
    with pytest.raises(TrainError, match="--resume.*--overwrite"):
        train(small_config(corpus, str(tmp_path)), resume=True, overwrite=True)
    assert (tmp_path / "ckpt.npz").read_bytes() == before


@pytest.mark.slow
def test_grad_clip_zero_turns_clipping_off(corpus, tmp_path) -> None:
    off = train(small_config(corpus, str(tmp_path / "off"), grad_clip=0.0, max_steps=6))
    huge = train(small_config(corpus, str(tmp_path / "huge"), grad_clip=1e30, max_steps=6))
    clipped = train(small_config(corpus, str(tmp_path / "clip"), grad_clip=1e-3, max_steps=6))
    assert off["history"]["loss"] == huge["history"]["loss"]  # no clipping = clipping that never binds
    assert off["history"]["loss"] != clipped["history"]["loss"]


def test_the_closing_sample_works_on_a_corpus_without_newlines(tmp_path, capsys) -> None:
    text = tmp_path / "one_line.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 40, encoding="utf-8")
    train(small_config(str(text), str(tmp_path / "run"), max_steps=2, sample_length=20))
    out = capsys.readouterr().out
    sample_text = out.split("sample:\n", 1)[1].rstrip("\n")
    assert len(sample_text) == 21 and sample_text[0] == "t"  # the corpus's first character, then 20 more


@pytest.mark.parametrize("field, value, flag", [
    ("lr", float("nan"), "--lr"), ("lr", -1.0, "--lr"), ("dropout", 1.0, "--dropout"),
    ("grad_clip", -1.0, "--grad-clip"), ("max_steps", 0, "--steps"), ("eval_interval", 0, "--eval-interval"),
    ("seed", -1, "--seed"), ("activation", "swish", "--activation"), ("min_lr", 1.0, "--min-lr"),
    ("weight_decay", 1e3, "--weight-decay"), ("n_layer", 1.5, "--n-layer"), ("n_layer", True, "--n-layer"),
    ("stop_after", 0, "--stop-after"), ("val_fraction", 1.0, "val_fraction"),
])
def test_train_config_validate_names_the_flag(field, value, flag) -> None:
    with pytest.raises(TrainError, match=flag):
        TrainConfig(**{field: value}).validate()


@pytest.mark.parametrize("kwargs, flag", [
    ({"temperature": float("nan")}, "--temperature"), ({"temperature": float("inf")}, "--temperature"),
    ({"top_k": 0}, "--top-k"), ({"length": -1}, "--length"), ({"seed": -1}, "--seed"), ({"prompt": ""}, "--prompt"),
])
def test_sample_arguments_are_checked(tmp_path, kwargs, flag) -> None:
    with pytest.raises(TrainError, match=flag):
        sample(str(tmp_path / "not_needed.npz"), **kwargs)


@pytest.mark.parametrize("kwargs, flag", [
    ({"batch_size": 0}, "--batch-size"), ({"alpha": float("nan")}, "--alpha"), ({"lr": 0.0}, "--lr"),
    ({"rank": 0}, "--rank"), ({"eval_iters": 0}, "eval_iters"), ({"targets": ("c_attn", "c_atn")}, "c_atn"),
    ({"targets": ()}, "--targets"),
])
def test_finetune_arguments_are_checked_before_anything_is_written(corpus, tmp_path, kwargs, flag) -> None:
    train(small_config(corpus, str(tmp_path / "base"), max_steps=2))
    with pytest.raises(TrainError, match=flag):
        finetune(str(tmp_path / "base" / "ckpt.npz"), corpus, str(tmp_path / "ft"), progress=False, **kwargs)
    assert not (tmp_path / "ft").exists()


@pytest.mark.parametrize("bad, what", [
    ({"w": np.array([{"a": 1}], dtype=object)}, "'w' is an array of Python objects"),
    ({"n": {"w": np.zeros(2, dtype=[("a", "f8"), ("b", object)])}}, "'n/w' is an array of Python objects"),
    ({"s": {1, 2}}, "'s' is of type set"),
    ({"o": object()}, "'o' is of type object"),
    ({"t": np.datetime64("2020-01-01")}, "'t' is of type datetime64"),
    ({"d": {1: np.zeros(2)}}, "key that is not a string"),
    ({"a/b": np.zeros(1), "a": {"b": np.ones(1)}}, "two arrays"),
    ({"x": {"__array__": "a0"}}, "reserved key"),
])
def test_a_state_that_needs_pickle_is_refused_and_the_old_file_kept(tmp_path, bad, what) -> None:
    path = tmp_path / "c.npz"
    save_checkpoint(str(path), {"good": np.arange(3.0)})
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=what.replace("(", r"\(")):
        save_checkpoint(str(path), bad)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]  # no temporary file left behind
    assert list(load_checkpoint(str(path))) == ["good"]


def write_npz(path, meta, arrays=None) -> None:
    """An .npz with our member names and a valid digest, but metadata of any shape."""
    meta_json = json.dumps(meta)
    arrays = arrays or {}
    np.savez(path, __meta__=np.array(meta_json), __digest__=np.array(_digest(arrays, meta_json)),
             **{f"a{i}": arrays[k] for i, k in enumerate(sorted(arrays))})


@pytest.mark.parametrize("meta, what", [
    ({"format": FORMAT}, "no 'state'"),
    (["a", "list"], "JSON list"),
    (42, "JSON int"),
    ({"format": FORMAT, "state": [1, 2]}, "state is a list"),
    ({"format": FORMAT, "state": {"w": {"__array__": 5}}}, "array reference"),
    ({"format": "other"}, "unknown format"),
])
def test_foreign_metadata_is_a_checkpoint_error(tmp_path, meta, what) -> None:
    path = str(tmp_path / "c.npz")
    write_npz(path, meta)
    with pytest.raises(CheckpointError, match=what):
        load_checkpoint(path)
    with pytest.raises(CheckpointError):
        load_model(path)


def test_a_npy_file_or_a_folder_is_not_a_checkpoint(tmp_path) -> None:
    with open(tmp_path / "one.npz", "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(CheckpointError, match="not an .npz archive"):
        load_checkpoint(str(tmp_path / "one.npz"))
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(str(tmp_path))


@pytest.mark.parametrize("state, what", [
    ({"kind": "train"}, "no 'model_config'"),
    ({"kind": "train", "model_config": [1], "model": {}, "tokenizer": {}, "dtype": "float32"}, "must be dicts"),
    ({"kind": "train", "model_config": {}, "model": [], "tokenizer": {}, "dtype": "float32"}, "must be dicts"),
    ({"kind": "train", "model_config": {}, "model": {}, "tokenizer": [], "dtype": "float32"}, "usable"),
    ({"kind": "train", "model_config": {"n_embd": "x"}, "model": {}, "tokenizer": {}, "dtype": "float32"}, "usable"),
    ({"kind": "train", "model_config": {}, "model": {}, "tokenizer": {"type": "char", "chars": "ab"},
      "dtype": "int64"}, "dtype 'int64'"),
])
def test_load_model_refuses_a_checkpoint_that_holds_no_model(tmp_path, state, what) -> None:
    path = str(tmp_path / "c.npz")
    save_checkpoint(path, state)
    with pytest.raises(CheckpointError, match=what):
        load_model(path)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoint_mode_follows_the_umask(tmp_path, umask, mode) -> None:
    old = os.umask(umask)
    try:
        save_checkpoint(str(tmp_path / "c.npz"), {"w": np.zeros(2)})
        save_checkpoint(str(tmp_path / "c.npz"), {"w": np.ones(2)})  # a replacement too
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "c.npz").st_mode) == mode


def test_resume_checks_the_values_given_against_the_checkpoints_settings(corpus, tmp_path) -> None:
    train(small_config(corpus, str(tmp_path), stop_after=2, min_lr=1e-5))
    with pytest.raises(TrainError, match=r"--min-lr 1e-05 must be <= --lr 1e-06.*other settings from"):
        train(small_config(corpus, str(tmp_path), lr=1e-6), resume=True, explicit={"lr"})
    resumed = train(small_config(corpus, str(tmp_path), lr=1e-4, max_steps=3), resume=True,
                    explicit={"lr", "max_steps"})  # 1e-4 < the default --min-lr, but above the checkpoint's
    assert resumed["step"] == 3
