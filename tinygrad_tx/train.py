"""Training, sampling and LoRA fine-tuning of the char-level GPT (what the command line runs).

A checkpoint holds everything needed to continue exactly: weights, model config, tokenizer,
optimizer state, step, both random generators (batches and dropout) and the loss history. So
``--resume`` reproduces the loss trajectory of an uninterrupted run bit for bit.
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from ._random import _generator, manual_seed
from .autograd import no_grad
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .cliargs import Bound
from .data import CharTokenizer, DataError, get_batch, load_text, train_val_split, unigram_entropy
from .manual import build_gpt
from .nn import GPT, Conv1D, GPTConfig, Linear, apply_lora
from .nn.lora import LoRALayer, _matches, lora_state_dict
from .optim import AdamW, WarmupCosine, clip_grad_norm_, lr_at

__all__ = ["TrainConfig", "train", "sample", "finetune", "load_model", "lora_targets", "TrainError", "LIMITS",
           "CHOICES", "SAMPLE_LIMITS", "FINETUNE_LIMITS", "SEED", "option"]

MODEL_FIELDS = ("block_size", "n_layer", "n_head", "n_embd", "dropout", "activation", "bias")
TRAINING_STATE = ("train_config", "model", "optimizer", "step", "rng", "history", "data_digest", "tokenizer")
FIXED_ON_RESUME = MODEL_FIELDS + ("batch_size", "dtype", "seed")  # --resume cannot change these
NOT_FROM_CHECKPOINT = ("data", "out_dir", "progress", "compare_torch", "stop_after")  # always from this call

# The allowed values of every setting: the command line parses with these (argparse type=), and
# TrainConfig.validate, sample and finetune check values from Python code and checkpoints with them.
SEED = Bound(int, ge=0, lt=2**63)
LIMITS: dict[str, Bound] = {
    "block_size": Bound(int, ge=1), "n_layer": Bound(int, ge=1), "n_head": Bound(int, ge=1),
    "n_embd": Bound(int, ge=1), "dropout": Bound(float, ge=0, lt=1), "batch_size": Bound(int, ge=1),
    "max_steps": Bound(int, ge=1), "lr": Bound(float, gt=0), "min_lr": Bound(float, ge=0),
    "warmup_steps": Bound(int, ge=0), "weight_decay": Bound(float, ge=0), "grad_clip": Bound(float, ge=0),
    "eval_interval": Bound(int, ge=1), "eval_iters": Bound(int, ge=1), "val_fraction": Bound(float, gt=0, lt=1),
    "seed": SEED, "sample_length": Bound(int, ge=0), "stop_after": Bound(int, ge=1),
}
CHOICES: dict[str, tuple[str, ...]] = {"activation": ("gelu_tanh", "gelu", "relu"), "dtype": ("float32", "float64")}
SAMPLE_LIMITS: dict[str, Bound] = {"length": Bound(int, ge=0), "temperature": Bound(float, ge=0),
                                   "top_k": Bound(int, ge=1), "seed": SEED}
FINETUNE_LIMITS: dict[str, Bound] = {"rank": Bound(int, ge=1), "alpha": Bound(float, gt=0), "steps": Bound(int, ge=1),
                                     "lr": Bound(float, gt=0), "batch_size": Bound(int, ge=1), "seed": SEED}
_OPTIONS = {"max_steps": "--steps", "val_fraction": "val_fraction", "bias": "bias"}


def option(name: str) -> str:
    """The command-line flag of a `TrainConfig` field: ``lr`` is ``--lr``, ``max_steps`` is ``--steps``."""
    return _OPTIONS.get(name, "--" + name.replace("_", "-"))


class TrainError(ValueError):
    """A request that cannot be carried out (reported as one line by the command line)."""


@dataclass
class TrainConfig:
    """The recipe. The defaults train a small GPT on the default corpus in a few minutes on 2 cores."""

    data: str | None = None
    out_dir: str = "runs/default"
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    activation: str = "gelu_tanh"
    bias: bool = True
    batch_size: int = 16
    max_steps: int = 1500
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_iters: int = 20
    val_fraction: float = 0.1
    seed: int = 1337
    dtype: str = "float32"
    sample_length: int = 300
    compare_torch: bool = True
    progress: bool = True
    stop_after: int | None = None  # stop (and checkpoint) after this step, as if interrupted
    fused: bool = False  # hand-derived fused ops for LayerNorm, GELU, attention and the loss (manual.fuse)
    # gradient checkpointing of every block (GPTConfig.checkpoint): less memory for one more forward of the
    # blocks per step; it changes no number, so --resume may turn it on or off
    checkpoint: bool = False

    def validate(self) -> None:
        """Raise `TrainError`, naming the flag, for a setting outside `LIMITS` or `CHOICES`, or two
        settings that do not go together."""
        for name, bound in LIMITS.items():
            if not (name == "stop_after" and self.stop_after is None):
                bound.check(option(name), getattr(self, name), TrainError)
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise TrainError(f"{option(name)} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not isinstance(self.checkpoint, bool):
            raise TrainError(f"--checkpoint must be True or False, got {self.checkpoint!r}")
        if self.n_embd % self.n_head:
            raise TrainError(f"--n-embd {self.n_embd} must be divisible by --n-head {self.n_head}")
        if self.min_lr > self.lr:
            raise TrainError(f"--min-lr {self.min_lr} must be <= --lr {self.lr}: the schedule decays from one to "
                             f"the other")
        if self.lr * self.weight_decay >= 1:
            raise TrainError(f"--weight-decay {self.weight_decay} times --lr {self.lr} must be < 1: AdamW multiplies "
                             f"the weights by 1 - lr * weight_decay at every step")


def _text_digest(ids: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(ids).tobytes()).hexdigest()[:16]


def _param_groups(model: GPT, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on every matrix (linear weights and embeddings), none on biases and LayerNorm
    parameters, as nanoGPT does."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@no_grad()
def estimate_loss(model: GPT, data: np.ndarray, cfg_block: int, batch_size: int, iters: int, seed: int) -> float:
    """Mean loss over ``iters`` batches drawn with a fixed seed (the same batches every time)."""
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    losses = []
    for _ in range(iters):
        x, y = get_batch(data, cfg_block, batch_size, rng)
        losses.append(model(x, y)[1].item())
    model.train(was_training)
    return float(np.mean(losses))


class _Interrupt:
    """Turn the first Ctrl-C into a flag checked between steps (so a step is never half-applied)."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Any = None

    def __enter__(self) -> _Interrupt:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread
            self.previous = None
        return self

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _progress(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, file=sys.stderr)


def _say(msg: str) -> None:
    print(msg, flush=True)


def _model_config(cfg: TrainConfig, vocab_size: int) -> GPTConfig:
    return GPTConfig(vocab_size=vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer, n_head=cfg.n_head,
                     n_embd=cfg.n_embd, dropout=cfg.dropout, bias=cfg.bias, activation=cfg.activation,
                     fused=cfg.fused, checkpoint=cfg.checkpoint)


def load_model(path: str) -> tuple[GPT, CharTokenizer, dict[str, Any]]:
    """The GPT and tokenizer stored in a training (or merged fine-tune) checkpoint."""
    state = load_checkpoint(path)
    if state.get("kind") == "lora":
        raise CheckpointError(f"{path}: this file holds LoRA weights only; sample from the merged checkpoint")
    try:
        saved_config, weights = state["model_config"], state["model"]
        if not isinstance(saved_config, dict) or not isinstance(weights, dict):
            raise TypeError("its model_config and model must be dicts")
        config = GPTConfig(**{k: (tuple(v) if k == "lora_targets" else v) for k, v in saved_config.items()})
        tokenizer = CharTokenizer.from_dict(state["tokenizer"])
        if state["dtype"] not in CHOICES["dtype"]:
            raise ValueError(f"dtype {state['dtype']!r} is not one of {', '.join(CHOICES['dtype'])}")
        dtype = np.dtype(state["dtype"])
    except KeyError as e:
        raise CheckpointError(f"{path}: not a usable model checkpoint (it has no {e.args[0]!r})") from None
    except (TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{path}: not a usable model checkpoint ({e})") from None
    if config.vocab_size != tokenizer.vocab_size:
        raise CheckpointError(
            f"{path}: vocabulary of {tokenizer.vocab_size} characters for a model of {config.vocab_size}"
        )
    model = build_gpt(config, dtype=dtype)  # fused (manual.fuse) if the checkpoint's model was
    try:
        model.load_state_dict(weights)
    except (ValueError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{path}: does not fit its own config: {e}") from None
    return model, tokenizer, state


def lora_targets(model: GPT, targets: Any, flag: str = "--targets") -> tuple[str, ...]:
    """``targets`` as a tuple of names, each naming at least one linear layer of ``model`` (``c_attn``,
    or the end of a dotted name such as ``mlp.c_proj``), else `TrainError` listing the layers: a
    misspelt name must not be skipped while the others are wrapped."""
    names = (targets,) if isinstance(targets, str) else tuple(targets)
    linear = [n for n, m in model.named_modules() if isinstance(m, (Linear, Conv1D))]
    unknown = [t for t in names if not isinstance(t, str) or not any(_matches(n, (t,)) for n in linear)]
    if unknown or not names:
        short = sorted({n.rsplit(".", 1)[-1] for n in linear})
        example = max(linear, key=lambda n: n.count("."))
        what = f"{', '.join(map(repr, unknown))} names no linear layer of the model" if unknown else "names no layer"
        raise TrainError(f"{flag}: {what}; choose from {', '.join(short)} (comma-separated), or the end of a full "
                         f"name such as {example}")
    return names


def _check_writable(folder: str, files: Collection[str]) -> None:
    """Create ``folder`` if needed and write and remove a probe file there, so that a folder that
    cannot take the results is found before training, not at the first save."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise TrainError(f"--out-dir {folder}: exists and is not a folder")
    for path in files:
        if os.path.isdir(path):
            raise TrainError(f"--out-dir {folder}: {path} is a folder, so it cannot be written as a file")
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise TrainError(f"--out-dir {folder}: cannot write there ({e.strerror or e})") from None


def _save(path: str, state: dict[str, Any]) -> None:
    """`save_checkpoint`, with a failure of the disk (full, gone read-only) as one `TrainError`."""
    try:
        save_checkpoint(path, state)
    except OSError as e:
        raise TrainError(f"cannot write {path} ({e.strerror or e}); the previous checkpoint is intact") from None


def _resume_config(cfg: TrainConfig, state: dict[str, Any], explicit: Collection[str], path: str) -> list[str]:
    """Set ``cfg`` from the checkpoint's recipe, except the settings in ``explicit``. Returns those
    that differ from the checkpoint's (``--lr 0.001 (checkpoint: 0.003)``)."""
    missing = [k for k in TRAINING_STATE if k not in state]
    if state.get("kind") != "train" or missing:
        kind = "LoRA weights" if state.get("kind") == "lora" else "a merged fine-tune" if "lora" in state else "a model"
        raise CheckpointError(f"{path}: cannot be resumed: it holds {kind} without the training state (optimizer, "
                              f"step, random generators) that --resume continues")
    saved = state["train_config"]
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: corrupted training state (its train_config is not a dict)")
    fixed = [f"{option(k)} {getattr(cfg, k)!r} (checkpoint: {saved.get(k)!r})" for k in FIXED_ON_RESUME
             if k in explicit and saved.get(k) != getattr(cfg, k)]
    if fixed:
        raise CheckpointError(f"{path} was trained with another config, which --resume cannot change: "
                              + "; ".join(fixed))
    overrides = []
    for f in fields(TrainConfig):
        if f.name in NOT_FROM_CHECKPOINT or f.name not in saved:
            continue
        if f.name not in explicit:
            setattr(cfg, f.name, saved[f.name])
        elif saved[f.name] != getattr(cfg, f.name):
            overrides.append(f"{option(f.name)} {getattr(cfg, f.name)} (checkpoint: {saved[f.name]})")
    if cfg.data is None:
        cfg.data = saved.get("data")
    try:
        cfg.validate()
    except TrainError as e:
        raise TrainError(f"{e} (with the other settings from {path})") from None
    if not isinstance(state["step"], int) or state["step"] < 0:
        raise CheckpointError(f"{path}: corrupted training state (its step is {state['step']!r})")
    if cfg.max_steps < state["step"]:
        raise TrainError(f"--steps {cfg.max_steps}: the checkpoint is already at step {state['step']}")
    return overrides


def _check_args(limits: dict[str, Bound], values: dict[str, Any], optional: Collection[str] = ()) -> None:
    """`TrainError` naming the flag (``--top-k``) of the first value outside its limits; None is
    allowed for the names in ``optional``."""
    for name, value in values.items():
        if not (value is None and name in optional):
            limits[name].check("--" + name.replace("_", "-"), value, TrainError)


def train(cfg: TrainConfig, resume: bool = False, overwrite: bool = False,
          explicit: Collection[str] = ()) -> dict[str, Any]:
    """Train (or resume) a GPT as ``cfg`` says; returns a summary (losses, baseline, timings).

    With ``resume``, training continues the checkpoint in ``cfg.out_dir``. Its model, batch size,
    dtype and seed cannot change: naming one in ``explicit`` (the settings given on the command line)
    with another value is an error. Every other setting named in ``explicit`` (``lr``, ``max_steps``,
    ``eval_interval``, ...) is used instead of the checkpoint's (one printed line lists them); the
    rest come from the checkpoint. Everything is checked before training starts: the settings, the
    data, and that ``cfg.out_dir`` can be written."""
    if not resume:  # with resume, once the checkpoint's settings are in
        cfg.validate()
    if resume and overwrite:
        raise TrainError("--resume continues the checkpoint and --overwrite replaces it: pass one or the other")
    ckpt_path = os.path.join(cfg.out_dir, "ckpt.npz")
    state = None
    overrides: list[str] = []
    if resume:
        state = load_checkpoint(ckpt_path)
        overrides = _resume_config(cfg, state, explicit, ckpt_path)
    elif os.path.exists(ckpt_path) and not overwrite:
        raise TrainError(f"{ckpt_path} already exists: pass --resume to continue it, --overwrite to replace it, "
                         f"or choose another --out-dir")

    text = load_text(cfg.data)
    source = cfg.data or "the default corpus"
    if state is not None:
        tokenizer = CharTokenizer.from_dict(state["tokenizer"])
        try:
            ids = tokenizer.encode(text)
        except DataError:
            raise CheckpointError(f"{ckpt_path} was trained on other text than {source}") from None
        if state["data_digest"] != _text_digest(ids):
            raise CheckpointError(f"{ckpt_path} was trained on other text than {source}")
    else:
        tokenizer = CharTokenizer.from_text(text)
        ids = tokenizer.encode(text)
    train_ids, val_ids = train_val_split(ids, cfg.val_fraction, cfg.block_size, source,
                                         "use a longer text or a smaller --block-size")
    _check_writable(cfg.out_dir, [ckpt_path])
    dtype = np.dtype(cfg.dtype)

    manual_seed(cfg.seed)
    model = build_gpt(_model_config(cfg, tokenizer.vocab_size), dtype=dtype)
    initial_weights = {k: np.array(v) for k, v in model.state_dict().items()}  # copies: the values follow the model
    optimizer = AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.99), eps=1e-8)
    batch_rng = np.random.default_rng(cfg.seed)
    step = 0
    history: dict[str, list[Any]] = {"step": [], "loss": [], "val": []}
    if state is not None:
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            batch_rng.bit_generator.state = state["rng"]["batch"]
            _generator().bit_generator.state = state["rng"]["global"]
            history = {k: list(state["history"][k]) for k in history}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CheckpointError(f"{ckpt_path}: corrupted training state ({e})") from None
        step = state["step"]
        optimizer.param_groups[0]["weight_decay"] = cfg.weight_decay  # the saved one, unless --weight-decay given
        for group in optimizer.param_groups:  # the schedule's peak: the saved one, unless --lr given
            group["initial_lr"] = cfg.lr
        initial_weights = state.get("initial_weights", initial_weights)
    # sets the rate of step `step`; a run shorter than its warmup (--steps < --warmup-steps) ends in the warmup
    scheduler = WarmupCosine(optimizer, cfg.warmup_steps, max(cfg.max_steps, cfg.warmup_steps), cfg.min_lr,
                             last_epoch=step - 1)

    n_params = model.num_parameters()
    baseline = unigram_entropy(train_ids, tokenizer.vocab_size)
    _say(f"data: {cfg.data or 'default corpus (pydoc_data.topics)'}: {len(ids):,} characters, vocabulary "
         f"{tokenizer.vocab_size}, {len(train_ids):,} train / {len(val_ids):,} validation")
    checkpointing = ", gradient checkpointing of every block" if cfg.checkpoint else ""
    _say(f"model: {cfg.n_layer} layers, {cfg.n_head} heads, d={cfg.n_embd}, context {cfg.block_size}, "
         f"{n_params:,} parameters, {cfg.dtype}{checkpointing}")
    _say(f"unigram baseline (entropy of the character distribution): {baseline:.4f} nats")
    if state is not None:
        given = f"; from the command line instead: {', '.join(overrides)}" if overrides else ""
        _say(f"resuming from {ckpt_path} at step {step}, with the checkpoint's settings{given}")

    def checkpoint_state() -> dict[str, Any]:
        return {
            "kind": "train", "model_config": asdict(model.config), "dtype": cfg.dtype,
            "tokenizer": tokenizer.to_dict(), "train_config": asdict(cfg),
            "model": dict(model.state_dict()), "optimizer": optimizer.state_dict(), "step": step,
            "rng": {"batch": batch_rng.bit_generator.state, "global": _generator().bit_generator.state},
            "history": history, "data_digest": _text_digest(ids), "initial_weights": dict(initial_weights),
        }

    def save() -> None:
        _save(ckpt_path, checkpoint_state())

    params = [p for p in model.parameters() if p.requires_grad]
    tokens_per_step = cfg.batch_size * cfg.block_size
    bar = _progress(cfg.max_steps, step, cfg.progress)
    t_start, steps_done, interrupted = time.perf_counter(), 0, False
    with _Interrupt() as stop:
        while step < cfg.max_steps:
            if stop.requested or (cfg.stop_after is not None and step >= cfg.stop_after):
                interrupted = True
                break
            x, y = get_batch(train_ids, cfg.block_size, cfg.batch_size, batch_rng)
            _, loss = model(x, y)
            optimizer.zero_grad()
            loss.backward()
            if cfg.grad_clip > 0:  # 0 turns clipping off
                clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            steps_done += 1
            loss_value = loss.item()
            history["step"].append(step)
            history["loss"].append(loss_value)
            if not math.isfinite(loss_value):
                raise TrainError(f"the loss became {loss_value} at step {step}; lower --lr")
            elapsed = time.perf_counter() - t_start
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{steps_done * tokens_per_step / elapsed:,.0f}")
            if step % cfg.eval_interval == 0 or step == cfg.max_steps:
                val = estimate_loss(model, val_ids, cfg.block_size, cfg.batch_size, cfg.eval_iters, cfg.seed + 1)
                history["val"].append([step, val])
                msg = f"step {step}: train loss {loss_value:.4f}, validation loss {val:.4f}"
                (bar.write(msg) if bar is not None else _say(msg))
                save()
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - t_start
    if interrupted:
        save()
        _say(f"stopped at step {step}: checkpoint saved to {ckpt_path}; continue with --resume")
        return {"interrupted": True, "step": step}

    val_loss = estimate_loss(model, val_ids, cfg.block_size, cfg.batch_size, cfg.eval_iters, cfg.seed + 1)
    summary: dict[str, Any] = {"step": step, "val_loss": val_loss, "baseline": baseline, "history": history,
                               "seconds": elapsed, "tokens_per_s": steps_done * tokens_per_step / max(elapsed, 1e-9),
                               "checkpoint": ckpt_path, "interrupted": False}
    _say(f"done: {step} steps in {elapsed:.1f} s ({summary['tokens_per_s']:,.0f} tokens/s)")
    _say(f"validation loss {val_loss:.4f} nats vs unigram baseline {baseline:.4f} nats "
         f"({'learned' if val_loss < baseline - 0.1 else 'NOT clearly better than the baseline'})")
    if cfg.compare_torch and steps_done == step:
        summary["torch_val_loss"] = _torch_same_recipe(cfg, tokenizer.vocab_size, initial_weights, train_ids, val_ids)
    plot = _plot_losses(history, baseline, os.path.join(cfg.out_dir, "loss.png"))
    if plot:
        _say(f"loss curve: {plot}")
    _say(f"checkpoint: {ckpt_path}")
    if cfg.sample_length > 0:
        prompt = "\n" if "\n" in tokenizer.stoi else text[0]  # a prompt the vocabulary has
        out = model.generate(tokenizer.encode(prompt)[None, :], cfg.sample_length, temperature=0.8, top_k=None,
                             seed=cfg.seed)
        _say("sample:\n" + tokenizer.decode(out[0, 1:] if prompt == "\n" else out[0]))
    return summary


def _torch_same_recipe(cfg: TrainConfig, vocab: int, init: dict[str, np.ndarray], train_ids: np.ndarray,
                       val_ids: np.ndarray) -> float | None:
    """Train the same model from the same weights on the same batches in PyTorch (if installed)."""
    try:
        import torch
    except ImportError:
        _say("PyTorch run of the same recipe: skipped (torch is not installed; `pip install torch` to compare)")
        return None

    tdtype = torch.float32 if cfg.dtype == "float32" else torch.float64
    torch.manual_seed(cfg.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as for our BLAS (perf.py): shared cores make spinning threads collapse
    try:
        return _torch_train(cfg, vocab, init, train_ids, val_ids, torch, tdtype)
    finally:
        torch.set_num_threads(threads)


def _torch_train(cfg: TrainConfig, vocab: int, init: dict[str, np.ndarray], train_ids: np.ndarray,
                 val_ids: np.ndarray, torch: Any, tdtype: Any) -> float:
    from .nn import to_torch_state_dict
    from .torch_gpt import TorchGPT

    mcfg = _model_config(cfg, vocab)
    ref = build_gpt(mcfg, dtype=np.dtype(cfg.dtype))
    ref.load_state_dict(init)
    tmodel = TorchGPT(mcfg).to(tdtype)
    tmodel.load_state_dict(to_torch_state_dict(ref))
    named = dict(tmodel.named_parameters())
    torch_param = {id(p): named[n] for n, p in ref.named_parameters()}
    groups = [{"params": [torch_param[id(p)] for p in g["params"]], "weight_decay": g["weight_decay"]}
              for g in _param_groups(ref, cfg.weight_decay)]  # the same groups as our run
    opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.99), eps=1e-8)
    rng = np.random.default_rng(cfg.seed)
    t0 = time.perf_counter()
    for step in range(cfg.max_steps):
        x, y = get_batch(train_ids, cfg.block_size, cfg.batch_size, rng)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg.lr, cfg.warmup_steps, cfg.max_steps, cfg.min_lr)
        _, loss = tmodel(torch.from_numpy(x), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(tmodel.parameters(), cfg.grad_clip)
        opt.step()
    seconds = time.perf_counter() - t0
    rng = np.random.default_rng(cfg.seed + 1)
    losses = []
    with torch.no_grad():
        for _ in range(cfg.eval_iters):
            x, y = get_batch(val_ids, cfg.block_size, cfg.batch_size, rng)
            losses.append(tmodel(torch.from_numpy(x), torch.from_numpy(y))[1].item())
    val = float(np.mean(losses))
    _say(f"PyTorch run of the same recipe (same initial weights and batches): validation loss {val:.4f} "
         f"in {seconds:.1f} s")
    return val


def _plot_losses(history: dict[str, list[Any]], baseline: float, path: str) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _say("loss curve: skipped (matplotlib is not installed)")
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history["step"], history["loss"], lw=0.8, alpha=0.6, label="train (per step)")
    if history["val"]:
        vs, vl = zip(*history["val"])
        ax.plot(vs, vl, "o-", label="validation")
    ax.axhline(baseline, color="gray", ls="--", label=f"unigram baseline {baseline:.2f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats)")
    ax.legend()
    ax.set_title("tinygrad_tx: char-level GPT")
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def sample(checkpoint: str, prompt: str = "\n", length: int = 300, temperature: float = 0.8,
           top_k: int | None = None, seed: int | None = 0) -> str:
    """Text generated from a checkpoint after ``prompt`` (deterministic for a given seed;
    ``temperature=0`` is greedy). Arguments outside `SAMPLE_LIMITS` raise `TrainError`."""
    _check_args(SAMPLE_LIMITS, {"length": length, "temperature": temperature, "top_k": top_k, "seed": seed},
                optional=("top_k", "seed"))
    if not isinstance(prompt, str) or not prompt:
        raise TrainError(f"--prompt must be a non-empty string, got {prompt!r}")
    model, tokenizer, _ = load_model(checkpoint)
    try:
        ids = tokenizer.encode(prompt, f"the vocabulary of {checkpoint}")
    except DataError as e:
        raise DataError(f"--prompt: {e}") from None
    out = model.generate(ids[None, :], length, temperature=temperature, top_k=top_k, seed=seed)
    return tokenizer.decode(out[0])


def finetune(checkpoint: str, data: str, out_dir: str, rank: int = 4, alpha: float = 8.0,
             targets: tuple[str, ...] = ("c_attn", "c_proj"), steps: int = 300, lr: float = 3e-3,
             batch_size: int = 16, eval_iters: int = 20, seed: int = 0, overwrite: bool = False,
             progress: bool = True) -> dict[str, Any]:
    """LoRA fine-tuning: only the low-rank matrices train; the base weights stay bit-identical.

    Everything is checked before training starts (the arguments against `FINETUNE_LIMITS`, each of
    ``targets``, the checkpoint, the data, that ``out_dir`` can be written); nothing is saved on error."""
    _check_args(FINETUNE_LIMITS, {"rank": rank, "alpha": alpha, "steps": steps, "lr": lr, "batch_size": batch_size,
                                  "seed": seed})
    Bound(int, ge=1).check("eval_iters", eval_iters, TrainError)
    lora_path, merged_path = os.path.join(out_dir, "lora.npz"), os.path.join(out_dir, "merged.npz")
    for p in (lora_path, merged_path):
        if os.path.exists(p) and not overwrite:
            raise TrainError(f"{p} already exists: pass --overwrite to replace it, or choose another --out-dir")
    model, tokenizer, base_state = load_model(checkpoint)
    targets = lora_targets(model, targets)
    text = load_text(data)
    try:
        ids = tokenizer.encode(text, f"the vocabulary of {checkpoint}")
    except DataError as e:
        raise DataError(f"{data}: {e}") from None
    block = model.config.block_size
    train_ids, val_ids = train_val_split(ids, 0.1, block, data,
                                         f"use a longer text (the checkpoint's context is {block} characters)")
    _check_writable(out_dir, [lora_path, merged_path])

    manual_seed(seed)
    base = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    val_before = estimate_loss(model, val_ids, block, batch_size, eval_iters, seed + 1)
    wrapped = apply_lora(model, targets, rank, alpha)
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_train, n_all = sum(p.numel() for p in trainable), model.num_parameters()
    _say(f"LoRA rank {rank}, alpha {alpha} on {len(wrapped)} layers ({', '.join(wrapped)})")
    _say(f"trainable parameters: {n_train:,} of {n_all:,} ({100 * n_train / n_all:.2f}%)")
    _say(f"validation loss on {data} before fine-tuning: {val_before:.4f}")
    opt = AdamW(trainable, lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    bar = _progress(steps, 0, progress)
    with _Interrupt() as stop:
        for step in range(steps):
            if stop.requested:
                raise TrainError(f"interrupted at step {step}; nothing was saved")
            x, y = get_batch(train_ids, block, batch_size, rng)
            _, loss = model(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
    if bar is not None:
        bar.close()
    val_after = estimate_loss(model, val_ids, block, batch_size, eval_iters, seed + 1)
    unchanged = all(np.array_equal(p.detach().numpy(), base[n]) for n, p in model.named_parameters() if n in base)
    _say(f"validation loss after fine-tuning: {val_after:.4f} ({val_after - val_before:+.4f})")
    _say(f"base weights bit-identical after fine-tuning: {'yes' if unchanged else 'NO'}")
    if not unchanged:
        raise TrainError("internal error: a frozen base weight changed during LoRA fine-tuning")

    lora_meta = {"rank": rank, "alpha": alpha, "targets": list(targets), "base_checkpoint": os.path.abspath(checkpoint)}
    _save(lora_path, {"kind": "lora", "lora": lora_meta, "weights": lora_state_dict(model),
                      "model_config": base_state["model_config"], "tokenizer": tokenizer.to_dict(),
                      "dtype": base_state["dtype"]})
    for m in model.modules():
        if isinstance(m, LoRALayer):
            m.merge()
    merged = {n: p.detach().numpy().copy() for n, p in model.named_parameters() if n in base}
    _save(merged_path, {"kind": "train", "model_config": base_state["model_config"],
                        "dtype": base_state["dtype"], "tokenizer": tokenizer.to_dict(),
                        "model": merged, "step": int(base_state.get("step", 0)), "lora": lora_meta})
    _say(f"saved the LoRA weights alone to {lora_path} and a merged checkpoint to {merged_path}")
    return {"val_before": val_before, "val_after": val_after, "trainable": n_train, "total": n_all,
            "base_unchanged": unchanged, "lora_path": lora_path, "merged_path": merged_path}
