"""GPT training-step benchmark: tinygrad_tx against PyTorch eager on the CPU.

One step is what ``train`` does per batch: forward (logits and mean cross-entropy), ``zero_grad``,
backward, and an AdamW step (decay on matrices only, as ``train._param_groups``). Both libraries
start from the same initial weights (made once by tinygrad_tx, moved to torch with
``nn.to_torch_state_dict``, which transposes GPT-2's Conv1D weights to nn.Linear's (out, in)) and see the
same batches.

Every (library, config, dtype) is measured in a fresh worker process, so that its peak memory is its
own: the worker reads ``VmHWM`` (the resident-set high-water mark) from ``/proc/self/status`` after
its imports and again at the end. ``--malloc-tuned`` runs every worker a second time with glibc's
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` raised (see ``tinygrad_tx/perf.py``).

The check compares, between the libraries: the loss of the first step (the same forward from the
same weights), the global gradient norm of that step (the backward) and the loss of the second step
(after one AdamW update). This prints ratios; it is not a test. Run from the repo root::

    .venv/bin/python bench/train_step.py                  # tiny, small, medium x f32, f64 (~4 min)
    .venv/bin/python bench/train_step.py --quick          # tiny only, few steps (~15 s)
    .venv/bin/python bench/train_step.py --profile --configs small --dtypes float32
    .venv/bin/python bench/train_step.py --malloc-tuned --profile --markdown out.md   # everything (~8 min)

If ``GPTConfig`` has a ``fused`` option, a third column set measures ``GPTConfig(fused=True)``.
Times are only meaningful on a quiet machine: the ``load`` column is the share of the CPUs other
processes used during each measurement, and a warning is printed above 10%.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run as a script from anywhere: import this checkout's tinygrad_tx
    sys.path.insert(0, ROOT)
from common import OtherLoad, timed_step  # noqa: E402  (bench/common.py; scripts run from bench/)

# name: (n_layer, n_head, n_embd, block_size T, batch B, default timed steps, default warmup)
CONFIGS: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "tiny": (2, 4, 64, 32, 16, 100, 5),
    "small": (4, 4, 128, 64, 32, 40, 3),
    "medium": (6, 6, 192, 128, 16, 20, 3),
}
DTYPES = ("float32", "float64")
LR, BETAS, EPS, WEIGHT_DECAY = 1e-3, (0.9, 0.99), 1e-8, 0.1
N_BATCHES = 8  # a pool of batches, cycled through (the same pool in every library)
MALLOC_TUNED_ENV = {"MALLOC_MMAP_THRESHOLD_": str(256 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(512 * 2**20)}
# How close the libraries must agree: relative difference of first-step loss, its gradient norm and
# the second-step loss (after one AdamW update, which amplifies tiny gradients' differences).
TOLERANCE = {"float32": (1e-6, 1e-5, 1e-5), "float64": (1e-12, 1e-11, 1e-10)}


# ------------------------------------------------------------------------------------- memory
def vm_hwm_mb() -> float | None:
    """This process's peak resident set size (VmHWM) in MB.

    Not ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: on Linux that high-water mark is inherited
    across fork+exec, so a worker started from a big parent reports the parent's peak (and a torch
    parent would inflate a tinygrad_tx child). VmHWM in /proc/self/status starts afresh at exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB -> MB
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------- the inputs
def model_config(name: str, vocab_size: int, fused: bool = False) -> Any:
    from tinygrad_tx.nn import GPTConfig

    n_layer, n_head, n_embd, block, _, _, _ = CONFIGS[name]
    kw = {"fused": True} if fused else {}
    return GPTConfig(vocab_size=vocab_size, block_size=block, n_layer=n_layer, n_head=n_head, n_embd=n_embd, **kw)


def make_inputs(path: str, config: str, dtype: str, seed: int) -> dict[str, Any]:
    """Write the initial weights (both layouts) and the batch pool to ``path``; return a summary."""
    from tinygrad_tx import manual_seed
    from tinygrad_tx.data import CharTokenizer, default_corpus, get_batch
    from tinygrad_tx.nn import GPT, to_torch_state_dict  # to_torch_state_dict imports torch lazily

    text = default_corpus()
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    _, _, _, block, batch, _, _ = CONFIGS[config]
    rng = np.random.default_rng(seed)
    xs, ys = zip(*(get_batch(ids, block, batch, rng) for _ in range(N_BATCHES)))
    manual_seed(seed)
    model = GPT(model_config(config, tok.vocab_size), dtype=np.dtype(dtype))
    arrays = {"x": np.stack(xs), "y": np.stack(ys)}
    arrays.update({f"tx/{k}": v.numpy() for k, v in model.state_dict().items()})
    arrays.update({f"torch/{k}": v.numpy() for k, v in to_torch_state_dict(model).items()})
    np.savez(path, **arrays)
    return {"vocab_size": tok.vocab_size, "params": model.num_parameters()}


# ------------------------------------------------------------------------------------ workers
def decay_groups(named: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """AdamW's two groups, in either library: weight decay on matrices, none on vectors."""
    return [{"params": [p for _, p in named if p.ndim >= 2], "weight_decay": WEIGHT_DECAY},
            {"params": [p for _, p in named if p.ndim < 2], "weight_decay": 0.0}]


class Step:
    """One library's training step on the shared batches: ``forward`` (the loss), ``backward``
    (zero_grad, then backward), ``update`` (the optimizer step). Subclasses set model, opt, params,
    xs and ys."""

    model: Any
    opt: Any
    params: list[Any]
    xs: Any
    ys: Any
    i = 0

    def forward(self) -> float:
        x, y = self.xs[self.i % N_BATCHES], self.ys[self.i % N_BATCHES]
        self.i += 1
        _, self.loss = self.model(x, y)
        return self.loss.item()

    def backward(self) -> None:
        self.opt.zero_grad()
        self.loss.backward()
        del self.loss

    def update(self) -> None:
        self.opt.step()


class TxStep(Step):
    """The tinygrad_tx step (also used in-process by --profile)."""

    def __init__(self, config: str, dtype: str, vocab_size: int, inputs: Any, fused: bool = False) -> None:
        from tinygrad_tx.manual import build_gpt
        from tinygrad_tx.optim import AdamW

        self.model = build_gpt(model_config(config, vocab_size, fused), dtype=np.dtype(dtype))
        self.model.load_state_dict({k[3:]: inputs[k] for k in inputs.files if k.startswith("tx/")})
        named = list(self.model.named_parameters())
        self.params = [p for _, p in named]
        self.opt = AdamW(decay_groups(named), lr=LR, betas=BETAS, eps=EPS)
        self.xs, self.ys = inputs["x"], inputs["y"]

    def grad_norm(self) -> float:
        return float(np.sqrt(sum(float(np.sum(np.square(p.grad.numpy(), dtype=np.float64))) for p in self.params)))


class TorchStep(Step):
    def __init__(self, config: str, dtype: str, vocab_size: int, inputs: Any) -> None:
        import torch

        from tinygrad_tx.torch_gpt import TorchGPT

        torch.set_num_threads(2)
        tdt = torch.float32 if dtype == "float32" else torch.float64
        self.model = TorchGPT(model_config(config, vocab_size)).to(tdt)
        state = {k[6:]: torch.from_numpy(inputs[k]) for k in inputs.files if k.startswith("torch/")}
        missing, unexpected = self.model.load_state_dict(state, strict=True)
        assert not missing and not unexpected
        named = list(self.model.named_parameters())
        self.params = [p for _, p in named]
        self.opt = torch.optim.AdamW(decay_groups(named), lr=LR, betas=BETAS, eps=EPS)
        self.xs, self.ys = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["y"])

    def grad_norm(self) -> float:
        return float(np.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in self.params)))


def make_step(lib: str, config: str, dtype: str, vocab_size: int, inputs: Any) -> Any:
    if lib == "torch":
        return TorchStep(config, dtype, vocab_size, inputs)
    return TxStep(config, dtype, vocab_size, inputs, fused=lib == "tinygrad_tx_fused")


def worker(args: argparse.Namespace) -> None:
    """Measure one (library, config, dtype) and print one JSON line."""
    if args.lib == "torch":
        import torch  # noqa: F401  (imported before the baseline, as a torch user's process would)
    import tinygrad_tx  # noqa: F401

    base = vm_hwm_mb()
    inputs = np.load(args.inputs)
    step = make_step(args.lib, args.config, args.dtype, args.vocab_size, inputs)
    check: dict[str, float] = {}
    for i in range(max(args.warmup, 2)):
        loss = step.forward()
        step.backward()
        if i == 0:
            check["loss0"], check["gnorm0"] = loss, step.grad_norm()
        elif i == 1:
            check["loss1"] = loss
        step.update()
    times: dict[str, list[float]] = {"forward": [], "backward": [], "update": [], "step": []}
    for _ in range(args.steps):
        timed_step(step, times)
    print(json.dumps({"base_mb": base, "peak_mb": vm_hwm_mb(), "check": check, "times": times}))


def run_worker(lib: str, config: str, dtype: str, inputs: str, vocab_size: int, steps: int, warmup: int,
               tuned: bool, blas_threads: int | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if blas_threads:
        env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    for k in MALLOC_TUNED_ENV:
        env.pop(k, None)
    if tuned:
        env.update(MALLOC_TUNED_ENV)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--lib", lib, "--configs", config,
           "--dtypes", dtype, "--inputs", inputs, "--vocab-size", str(vocab_size), "--steps", str(steps),
           "--warmup", str(warmup)]
    with OtherLoad(children=True) as load:  # the measurement runs in the child
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"worker failed ({proc.returncode}): {last}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["load"] = load.fraction
    return result


# ------------------------------------------------------------------------------------- tables
def ms(xs: list[float]) -> float:
    return 1e3 * statistics.median(xs)


def fmt_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def md_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i in right else ":---" for i in range(len(header))) + "|"]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


LIB_LABEL = {"tinygrad_tx": "tinygrad_tx", "torch": "torch", "tinygrad_tx_fused": "tinygrad_tx fused"}
LIB_SHORT = {"tinygrad_tx": "tx", "torch": "torch", "tinygrad_tx_fused": "fused"}  # column-set prefixes


def build_tables(results: dict[tuple[str, str, str, bool], dict[str, Any]], libs: list[str], configs: list[str],
                 dtypes: list[str], mallocs: list[bool]) -> dict[str, tuple[list[str], list[list[str]], set[int]]]:
    """The main table (one row per config, dtype, malloc; a column set per library), the phase
    split, and the correctness check."""
    main_header = ["config", "dtype", "malloc"]
    for lib in libs:
        label = LIB_SHORT[lib]
        main_header += [f"{label} ms", f"{label} tok/s", f"{label} MB"]
        if lib != "torch":
            main_header.append(f"{label}/torch")
    main_header.append("load")
    main_rows, phase_rows, check_rows = [], [], []
    for config in configs:
        tokens = CONFIGS[config][3] * CONFIGS[config][4]
        for dtype in dtypes:
            for tuned in mallocs:
                malloc = "tuned" if tuned else "default"
                row = [config, dtype, malloc]
                torch_res = results.get(("torch", config, dtype, tuned), {})
                torch_ms = ms(torch_res["times"]["step"]) if "times" in torch_res else None
                loads = []
                for lib in libs:
                    r = results.get((lib, config, dtype, tuned), {})
                    if "times" not in r:
                        row += ["error", "", ""] + ([""] if lib != "torch" else [])
                        continue
                    step_ms = ms(r["times"]["step"])
                    row += [f"{step_ms:.2f}", f"{1e3 * tokens / step_ms:,.0f}", f"{r['peak_mb']:.0f}"]
                    if lib != "torch":
                        row.append(f"{step_ms / torch_ms:.2f}x" if torch_ms else "")
                    if r.get("load") is not None:
                        loads.append(r["load"])
                    t = r["times"]
                    phase_rows.append([config, dtype, malloc, LIB_LABEL[lib], f"{ms(t['forward']):.2f}",
                                       f"{ms(t['backward']):.2f}", f"{ms(t['update']):.2f}", f"{step_ms:.2f}",
                                       f"{1e3 * min(t['step']):.2f}", str(len(t["step"])), f"{r['base_mb']:.0f}",
                                       f"{r['peak_mb']:.0f}", f"{r['peak_mb'] - r['base_mb']:.0f}"])
                row.append(f"{max(loads):.0%}" if loads else "?")
                main_rows.append(row)
                if "check" not in torch_res:
                    continue
                for lib in libs:
                    r = results.get((lib, config, dtype, tuned), {})
                    if lib == "torch" or "check" not in r:
                        continue
                    rels = [abs(r["check"][k] - torch_res["check"][k]) / abs(torch_res["check"][k])
                            for k in ("loss0", "gnorm0", "loss1")]
                    ok = all(rel <= tol for rel, tol in zip(rels, TOLERANCE[dtype]))
                    check_rows.append([config, dtype, malloc, f"{LIB_LABEL[lib]} vs torch",
                                       f"{r['check']['loss0']:.12f}", f"{torch_res['check']['loss0']:.12f}",
                                       f"{rels[0]:.1e}", f"{rels[1]:.1e}", f"{rels[2]:.1e}",
                                       "yes" if ok else f"NO (tolerance {TOLERANCE[dtype]})"])
    phase_header = ["config", "dtype", "malloc", "library", "forward", "backward", "AdamW", "step", "min", "steps",
                    "MB after imports", "peak MB", "peak - imports"]
    check_header = ["config", "dtype", "malloc", "compare", "loss step 1", "torch loss step 1", "rel diff",
                    "grad-norm rel diff", "loss step 2 rel diff", "agree"]
    return {
        "main": (main_header, main_rows, set(range(3, len(main_header)))),
        "phases": (phase_header, phase_rows, set(range(4, len(phase_header)))),
        "check": (check_header, check_rows, {4, 5, 6, 7, 8}),
    }


# ---------------------------------------------------------------------------------- profiling
def _group_scope(scope: str) -> str:
    """``h.3.mlp.act`` -> ``h.*.mlp.act`` (every block together)."""
    return re.sub(r"\.\d+(?=\.|$)", ".*", scope) or "(top level)"


def apply_overhead_microbench(dtype: str) -> dict[str, float]:
    """µs per call of the engine machinery on a 1-element array, where NumPy's own work is ~nothing."""
    from tinygrad_tx import Tensor
    from tinygrad_tx.autograd import no_grad
    from tinygrad_tx.ops import Add

    a_np = np.ones(1, dtype=dtype)
    a = Tensor(a_np, requires_grad=True)
    b = Tensor(a_np.copy(), requires_grad=True)
    n = 20000

    def per_call(f: Any) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            best = min(best, (time.perf_counter() - t0) / n)
        return 1e6 * best

    numpy_add = per_call(lambda: a_np + a_np)
    recorded = per_call(lambda: Add.apply(a, b))
    operator = per_call(lambda: a + b)
    with no_grad():
        unrecorded = per_call(lambda: Add.apply(a, b))
    return {"numpy a+b": numpy_add, "Add.apply, recording": recorded, "Add.apply, no_grad": unrecorded,
            "Tensor a+b (operator)": operator}


def profile(config: str, dtype: str, vocab_size: int, inputs_path: str, steps: int, top: int,
            out: list[str], fused: bool = False) -> None:
    """cProfile, then the per-primitive breakdown, of the tinygrad_tx step (in this process)."""
    inputs = np.load(inputs_path)
    step = TxStep(config, dtype, vocab_size, inputs, fused=fused)
    label = "tinygrad_tx fused" if fused else "tinygrad_tx"

    def run(n: int) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {"forward": [], "backward": [], "update": [], "step": []}
        for _ in range(n):
            t0 = time.perf_counter()
            step.forward()
            t1 = time.perf_counter()
            step.backward()
            t2 = time.perf_counter()
            step.update()
            t3 = time.perf_counter()
            for k, v in zip(("forward", "backward", "update", "step"), (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                times[k].append(v)
        return times

    def say(line: str = "") -> None:
        print(line)
        out.append(line)

    run(3)
    plain = run(steps)
    say(f"\n### Profile: {label}, {config}, {dtype} ({steps} steps; plain step {ms(plain['step']):.2f} ms: "
        f"forward {ms(plain['forward']):.2f}, backward {ms(plain['backward']):.2f}, "
        f"AdamW {ms(plain['update']):.2f})")

    prof = cProfile.Profile()
    prof.runcall(run, steps)
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    lines = buf.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    say(f"\ncProfile, top {top} functions by tottime ({steps} steps; cProfile inflates Python-heavy code, "
        f"so read shares, not absolute times):\n")
    say("```")
    for line in lines[start:]:
        if line.strip():
            say(line)
    say("```")

    from tinygrad_tx.autograd.profiler import profile as op_profile

    with op_profile() as prof:
        inst = run(steps)
    n = steps
    step_ms = sum(inst["step"]) * 1e3 / n
    plain_mean = 1e3 * statistics.mean(plain["step"])
    fwd_ms, bwd_ms, upd_ms = (sum(inst[k]) * 1e3 / n for k in ("forward", "backward", "update"))
    say(f"\nPer primitive (Function subclass), ms per step (mean of {n} steps under tinygrad_tx.autograd.profiler."
        f"profile; profiled step {step_ms:.2f} ms against {plain_mean:.2f} ms plain, mean):")
    say("'fwd apply' = building the node + the NumPy forward; 'fwd numpy' = the subclass's forward alone. "
        "'bwd' = the node's VJP, including the Tensor ops a composed backward runs; 'bwd numpy' = their NumPy "
        "forwards, or all of a hand-written NumPy backward (fused ops).\n")
    stats = prof.stats
    rows = []
    for cname, s in sorted(stats.items(), key=lambda kv: -(kv[1].forward_s + kv[1].backward_s + kv[1].accumulate_s)):
        total = (s.forward_s + s.backward_s + s.accumulate_s) * 1e3 / n
        rows.append([cname, f"{s.forward_calls / n:.0f}", f"{s.forward_s * 1e3 / n:.2f}",
                     f"{s.forward_kernel_s * 1e3 / n:.2f}", f"{s.backward_calls / n:.0f}",
                     f"{s.backward_s * 1e3 / n:.2f}", f"{s.backward_kernel_s * 1e3 / n:.2f}",
                     f"{s.accumulate_s * 1e3 / n:.2f}" if s.accumulate_calls else "", f"{total:.2f}",
                     f"{100 * total / step_ms:.1f}%"])
    header = ["primitive", "fwd calls", "fwd apply ms", "fwd numpy ms", "bwd calls", "bwd ms", "bwd numpy ms",
              "grad accum ms", "total ms", "% step"]
    say("```")
    for line in fmt_table(header, rows, set(range(1, len(header)))):
        say(line)
    say("```")

    fwd_apply = sum(s.forward_s for s in stats.values()) * 1e3 / n
    bwd_vjp = sum(s.backward_s for s in stats.values()) * 1e3 / n
    accum = sum(s.accumulate_s for s in stats.values()) * 1e3 / n
    kernel = sum(s.forward_kernel_s + s.backward_kernel_s for s in stats.values()) * 1e3 / n
    calls = prof.apply_calls / n
    say("\nWhere the step goes (profiled, ms per step):\n")
    say("```")
    split = [
        ["forward", f"{fwd_ms:.2f}", f"primitives (apply) {fwd_apply:.2f}; Python outside apply (Module calls, "
                                     f"Tensor methods, broadcasting) {fwd_ms - fwd_apply:.2f}"],
        ["backward", f"{bwd_ms:.2f}", f"VJPs {bwd_vjp:.2f}; gradient accumulation {accum:.2f}; walk, topological "
                                      f"sort, zero_grad, .grad {bwd_ms - bwd_vjp - accum:.2f}"],
        ["AdamW", f"{upd_ms:.2f}", ""],
        ["step", f"{step_ms:.2f}", f"NumPy inside primitives {kernel:.2f} ({100 * kernel / step_ms:.0f}%), "
                                   f"everything else {step_ms - kernel:.2f}, of which the profiler itself "
                                   f"~{max(0.0, step_ms - plain_mean):.2f} (profiled - plain)"],
        ["apply()", f"{(prof.apply_s - prof.kernel_s) * 1e3 / n:.2f}", f"{calls:.0f} calls/step x "
         f"{1e6 * (prof.apply_s - prof.kernel_s) / max(prof.apply_calls, 1):.1f} us overhead each "
         f"(apply minus forward)"],
    ]
    for line in fmt_table(["phase", "ms", "of which"], split, {1}):
        say(line)
    say("```")

    say("\nBy layer (module scope of the node; every block together), ms per step:\n")
    by_scope: dict[tuple[str, str], float] = defaultdict(float)
    for (scope, phase), t in prof.by_scope.items():
        by_scope[(_group_scope(scope), phase)] += t
    scopes = sorted({k[0] for k in by_scope}, key=lambda s: -(by_scope[(s, "forward")] + by_scope[(s, "backward")]))
    rows = []
    for sc in scopes:
        f, b = by_scope[(sc, "forward")] * 1e3 / n, by_scope[(sc, "backward")] * 1e3 / n
        rows.append([sc, f"{f:.2f}", f"{b:.2f}", f"{f + b:.2f}", f"{100 * (f + b) / step_ms:.1f}%"])
    say("```")
    for line in fmt_table(["scope", "forward ms", "backward ms", "total ms", "% step"], rows, {1, 2, 3, 4}):
        say(line)
    say("```")

    micro = apply_overhead_microbench(dtype)
    say("\nEngine overhead per call on a 1-element array (best of 3 x 20,000 calls, no instrumentation):")
    say("```")
    for k, v in micro.items():
        say(f"{k:<24} {v:6.2f} us")
    say("```")
    engine_us = micro["Add.apply, recording"] - micro["numpy a+b"]
    say(f"=> apply's bookkeeping ~{engine_us:.1f} us x {calls:.0f} apply calls/step = "
        f"~{engine_us * calls / 1e3:.1f} ms/step of {ms(plain['step']):.2f} ms (plain)")


# --------------------------------------------------------------------------------------- main
def split_list(values: list[str] | None, allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    out = [v for item in (values or []) for v in item.split(",") if v]
    for v in out:
        if v not in allowed:
            raise SystemExit(f"unknown {what} {v!r}: choose from {', '.join(allowed)}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", help=f"of {', '.join(CONFIGS)} (default: all)")
    parser.add_argument("--dtypes", nargs="+", help="float32, float64 (default: both)")
    parser.add_argument("--steps", type=int, help="timed steps per measurement (default: per config, "
                                                  + ", ".join(f"{k} {v[5]}" for k, v in CONFIGS.items()) + ")")
    parser.add_argument("--warmup", type=int, help="untimed steps first (at least 2: they give the check)")
    parser.add_argument("--quick", action="store_true", help="tiny only, fewer steps")
    parser.add_argument("--profile", action="store_true", help="cProfile and per-primitive breakdown of the "
                                                               "tinygrad_tx step (and the fused one, if any), "
                                                               "in the first dtype, for each config")
    parser.add_argument("--profile-steps", type=int, help="steps per profile (default: tiny 40, small 10, "
                                                          "medium 5)")
    parser.add_argument("--top", type=int, default=25, help="rows of the cProfile listing")
    parser.add_argument("--malloc-tuned", action="store_true",
                        help="also run every worker with MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ raised")
    parser.add_argument("--blas-threads", type=int, metavar="N",
                        help="OPENBLAS_NUM_THREADS for the workers (default: inherited; torch always uses 2)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the results as markdown")
    parser.add_argument("--seed", type=int, default=0)
    # internal: one measurement in a fresh process
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lib", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    parser.add_argument("--vocab-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        args.config, args.dtype = args.configs[0], args.dtypes[0]
        worker(args)
        return

    configs = split_list(args.configs, tuple(CONFIGS), "config") or (["tiny"] if args.quick else list(CONFIGS))
    dtypes = split_list(args.dtypes, DTYPES, "dtype") or list(DTYPES)

    libs = ["tinygrad_tx", "torch", "tinygrad_tx_fused"]
    mallocs = [False, True] if args.malloc_tuned else [False]

    import torch

    from tinygrad_tx import __file__ as tx_file

    malloc_env = {k: os.environ[k] for k in MALLOC_TUNED_ENV if k in os.environ}
    blas = str(args.blas_threads) if args.blas_threads else os.environ.get("OPENBLAS_NUM_THREADS", "unset (all CPUs)")
    header = [
        "# GPT training step: tinygrad_tx vs PyTorch eager (CPU)",
        "",
        f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__} (2 threads), "
        f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS {blas}, tinygrad_tx from {os.path.dirname(tx_file)}",
        f"step = forward + cross-entropy, zero_grad, backward, AdamW (lr {LR}, betas {BETAS}, weight decay "
        f"{WEIGHT_DECAY} on matrices); same initial weights and the same {N_BATCHES} batches (cycled) in "
        f"both libraries; each measurement in a fresh process; ms = median of the timed steps after warmup; "
        f"peak MB = VmHWM of that process; load = other processes' share of the CPUs meanwhile",
        "malloc: default = glibc as started" + (f" (this shell sets {malloc_env})" if malloc_env else "")
        + ("; tuned = " + ", ".join(f"{k}={v}" for k, v in MALLOC_TUNED_ENV.items()) if args.malloc_tuned else ""),
    ]
    for line in header:
        print(line)
    print("configs: " + "; ".join(f"{c}: {CONFIGS[c][0]}L {CONFIGS[c][1]}H d{CONFIGS[c][2]} T{CONFIGS[c][3]} "
                                  f"B{CONFIGS[c][4]}" for c in configs))

    results: dict[tuple[str, str, str, bool], dict[str, Any]] = {}
    profile_out: list[str] = []
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="train_step_") as tmp:
        inputs: dict[tuple[str, str], tuple[str, int]] = {}
        for config in configs:
            _, _, _, _, _, steps, warmup = CONFIGS[config]
            steps = args.steps or (max(5, steps // 3) if args.quick else steps)
            warmup = max(2, args.warmup if args.warmup is not None else warmup)
            for dtype in dtypes:
                path = os.path.join(tmp, f"{config}_{dtype}.npz")
                info = make_inputs(path, config, dtype, args.seed)
                inputs[(config, dtype)] = (path, info["vocab_size"])
                for tuned in mallocs:
                    for lib in libs:
                        r = run_worker(lib, config, dtype, path, info["vocab_size"], steps, warmup, tuned,
                                       args.blas_threads)
                        results[(lib, config, dtype, tuned)] = r
                        desc = (f"{ms(r['times']['step']):8.2f} ms/step, peak {r['peak_mb']:.0f} MB, "
                                f"other load {r['load']:.0%}" if "times" in r else r["error"])
                        print(f"  {config:<6} {dtype:<7} {'tuned' if tuned else 'default':<7} "
                              f"{LIB_LABEL[lib]:<17} {desc}  ({info['params']:,} parameters)", flush=True)
        if args.profile:
            if args.malloc_tuned:  # the same effect as the environment variables, set from inside
                from tinygrad_tx import tune_allocator

                tune_allocator(int(MALLOC_TUNED_ENV["MALLOC_MMAP_THRESHOLD_"]),
                               int(MALLOC_TUNED_ENV["MALLOC_TRIM_THRESHOLD_"]))
                profile_out.append("\nThe profiles below ran with the tuned allocator (--malloc-tuned).")
                print(profile_out[-1])
            for config in configs:
                path, vocab = inputs[(config, dtypes[0])]
                psteps = args.profile_steps or {"tiny": 10 if args.quick else 40, "small": 10, "medium": 5}[config]
                for fused in [False] + ([True] if "tinygrad_tx_fused" in libs else []):
                    profile(config, dtypes[0], vocab, path, psteps, args.top, profile_out, fused)
    elapsed = time.perf_counter() - t_start

    tables = build_tables(results, libs, configs, dtypes, mallocs)
    titles = {"main": "ms/step (median), tokens/s and peak memory (MB, VmHWM); tx = tinygrad_tx"
                      + (", fused = tinygrad_tx with GPTConfig(fused=True)" if "tinygrad_tx_fused" in libs else "")
                      + "; x/torch = ms ratio (> 1: slower than torch)",
              "phases": "phases (median ms), min step, and memory: VmHWM after imports and at the end",
              "check": "check: the same step in both libraries (relative differences; tolerances f32 "
                       f"{TOLERANCE['float32']}, f64 {TOLERANCE['float64']})"}
    print()
    for key in ("main", "phases", "check"):
        print(titles[key] + ":")
        for line in fmt_table(*tables[key]):
            print(line)
        print()
    busy = [r["load"] for r in results.values() if r.get("load") is not None]
    note = (f"WARNING: other processes used up to {max(busy):.0%} of the CPUs during a measurement; "
            f"re-run when the machine is quiet" if busy and max(busy) > 0.1
            else "other processes were quiet (<= 10% of the CPUs) during every measurement")
    # Why the warning matters: with another process busy on one of the 2 cores, the tiny tinygrad_tx
    # step was measured 6-12x slower with OpenBLAS on 2 threads (its threads spin waiting for each
    # other) and 1-2x slower with OPENBLAS_NUM_THREADS=1; torch's 2 threads suffer the same way.
    notes = [note]
    for lib in libs:
        bases = [r["base_mb"] for k, r in results.items() if k[0] == lib and r.get("base_mb") is not None]
        if bases:
            notes.append(f"VmHWM after imports, before the model: {LIB_LABEL[lib]} {statistics.median(bases):.0f} MB")
    if args.malloc_tuned:
        for lib in libs:
            pairs = [(c, d, results.get((lib, c, d, False), {}), results.get((lib, c, d, True), {}))
                     for c in configs for d in dtypes]
            gains = [f"{c} {d} {ms(a['times']['step']) / ms(b['times']['step']):.2f}x"
                     for c, d, a, b in pairs if "times" in a and "times" in b]
            if gains:
                notes.append(f"malloc tuned: {LIB_LABEL[lib]} step time default/tuned: " + ", ".join(gains))
    for line in notes:
        print(line)
    print(f"total time {elapsed:.0f} s")

    if args.markdown:
        md = header + [""]
        for key in ("main", "phases", "check"):
            md += [f"**{titles[key]}**", ""] + md_table(*tables[key]) + [""]
        md += [f"- {line}" for line in notes] + [f"- total time {elapsed:.0f} s", ""] + profile_out
        with open(args.markdown, "w") as f:
            f.write("\n".join(md) + "\n")
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
