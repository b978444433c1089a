"""The self-grading exercises (``tinygrad_tx.manual.exercises``) and their notebooks.

- every hint names its planted mistake (one wrong answer per kind of mistake, per exercise where the
  exercise knows more than the generic checks);
- the hand derivations of ``tinygrad_tx.manual`` (seeds, layers, attention), which are checked against
  the engine in ``tests/test_manual.py``, pass every exercise: exact or approximate;
- the tolerance: a perturbation inside ``APPROX_TOL · (1 + max|truth|)`` is approximate, one outside is
  wrong, also for a gradient that is exactly 0;
- the committed blank notebooks are exactly what ``make_blanks.py`` makes from the solved ones;
- (slow) every solved notebook runs and each of its check cells prints "all passed"; every blank one
  runs without an exception and each check cell prints its "missing" rows.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tests.notebook_runner import NOTEBOOK_DIR, execute, output_text
from tinygrad_tx import manual
from tinygrad_tx.manual.exercises import APPROX_TOL, EXERCISES, ExerciseResult, _build, check_exercise, exercise
from tinygrad_tx.scalar import Value

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpecManager


EXERCISE_DIR = NOTEBOOK_DIR / "exercises"
SOLVED = sorted((EXERCISE_DIR / "solutions").glob("*.ipynb"))


def truths(name: str) -> dict[str, Any]:
    return {a.name: a.truth for a in exercise(name).answers}


def first_hint(name: str, **answers: Any) -> tuple[str, str]:
    """The first wrong row's name and hint, the other answers being the truth."""
    result = check_exercise(name, **(truths(name) | answers))
    assert not result and result.first_wrong is not None, str(result)
    return result.first_wrong.name, result.first_wrong.hint


# ------------------------------------------------------------------------------- the grader itself


def test_the_truth_is_exact_for_every_exercise() -> None:
    for name in EXERCISES:
        result = check_exercise(name, **truths(name))
        assert result and all(r.verdict == "exact" for r in result.rows), str(result)


def test_the_hand_derivations_of_manual_pass_every_exercise() -> None:
    """The answers computed by tinygrad_tx.manual's functions (not by the engine) pass."""
    ex = exercise("staged_f")
    staged = manual.staged_f_backward(ex.x, ex.y)
    got = check_exercise("staged_f", **(truths("staged_f") | {"dx": staged["dx"], "dy": staged["dy"]}))
    assert got and [r.verdict for r in got.rows][-2:] == ["exact", "exact"], str(got)

    ex = exercise("mlp")
    W, b = [ex.W0, ex.W1, ex.W2], [ex.b0, ex.b1, ex.b2]
    z2, cache = manual.relu_mlp_forward(ex.x, W, b)
    dW, db, dx = manual.relu_mlp_backward(z2 - ex.y, W, cache)
    mlp = {f"dW{i}": dW[i] for i in range(3)} | {f"db{i}": db[i] for i in range(3)} | {"dx": dx}
    got = check_exercise("mlp", **(truths("mlp") | mlp))
    assert got and all(r.verdict == "exact" for r in got.rows), str(got)

    ex = exercise("softmax_ce")
    _, cache = manual.softmax_cross_entropy_forward(ex.logits, ex.targets)
    assert check_exercise("softmax_ce", dlogits=manual.softmax_cross_entropy_backward(cache))

    ex = exercise("layernorm")
    _, cache = manual.layernorm_forward(ex.x, ex.gamma, ex.beta, ex.eps)
    dx, grads = manual.layernorm_backward(ex.dout, cache)
    got = check_exercise("layernorm", dxhat=ex.dout * ex.gamma, dgamma=grads["weight"], dbeta=grads["bias"], dx=dx)
    assert got, str(got)

    ex = exercise("attention")
    _, cache = manual.causal_attention_forward(ex.q, ex.k, ex.v)
    dq, dk, dv, inner = manual.causal_attention_backward(ex.dout, cache)
    got = check_exercise("attention", drho=inner["rho"], dS=inner["S"], dq=dq, dk=dk, dv=dv)
    assert got, str(got)

    ex = exercise("lora")  # LoRALinear's A (r, in), B (out, r) are LoRAConv1D's transposed
    _, cache = manual.lora_linear_forward(ex.x, ex.W0.T, ex.b0, ex.A.T, ex.B.T, ex.s)
    dx, grads = manual.lora_linear_backward(ex.dout, cache)
    got = check_exercise("lora", dA=grads["lora_A"].T, dB=grads["lora_B"].T, dx=dx, dW0=None, db0=None)
    assert got and "weight" not in grads, str(got)


def test_verdicts_missing_and_the_result_object() -> None:
    blank = check_exercise("mlp")
    assert not blank and blank.first_wrong is None
    assert {r.verdict for r in blank.rows} == {"missing"} and "missing" in str(blank)
    assert [r.verdict for r in check_exercise("gates", ds=None, dt=...).rows[:2]] == ["missing", "missing"]
    result = check_exercise("softmax_ce", dlogits=truths("softmax_ce")["dlogits"])
    assert isinstance(result, ExerciseResult) and result and result.passed
    assert result.rows[0].verdict == "exact" and result.rows[0].shape == (8, 5)
    assert "all passed" in str(result) and "all passed" in repr(result)
    html = result._repr_html_()
    assert "<table>" in html and "exact" in html and "1e-10" in html


def test_unknown_names_are_errors_listing_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown exercise 'nope'.*gates, staged_f, mlp"):
        exercise("nope")
    with pytest.raises(ValueError, match=r"unknown answer\(s\) 'dW9'.*dz2, dW2, db2"):
        check_exercise("mlp", dW9=np.zeros(3))
    with pytest.raises(AttributeError, match="gives no 'W9'"):
        _ = exercise("mlp").W9


def test_the_tolerance_is_relative_to_one_plus_the_scale() -> None:
    dz2 = truths("mlp")["dz2"]
    scale = 1.0 + np.abs(dz2).max()
    inside = dz2.copy()
    inside[0, 0] += 0.5 * APPROX_TOL * scale
    outside = dz2.copy()
    outside[0, 0] += 2.0 * APPROX_TOL * scale
    assert check_exercise("mlp", dz2=inside).rows[0].verdict == "approximate"
    assert check_exercise("mlp", dz2=outside).rows[0].verdict == "wrong"
    dw = truths("gates")["dw"]  # exactly 0: the loser of the max
    assert float(dw) == 0.0
    assert check_exercise("gates", dw=0.5 * APPROX_TOL).rows[7].verdict == "approximate"
    assert check_exercise("gates", dw=2.0 * APPROX_TOL).rows[7].verdict == "wrong"


def test_building_an_exercise_leaves_the_global_generator_alone() -> None:
    import tinygrad_tx as tx

    tx.manual_seed(123)
    expected = tx.rand(3).numpy()
    tx.manual_seed(123)
    _build.cache_clear()
    exercise("lora")
    assert np.array_equal(tx.rand(3).numpy(), expected)


def test_given_values_are_copies() -> None:
    ex = exercise("mlp")
    ex.W0[:] = 0.0
    ex.given["W0"][:] = 0.0
    assert np.abs(exercise("mlp").W0).max() > 0


# ------------------------------------------------------------------------------------------ hints
T = truths  # (short)
GATES, STAGED, MLP, CE, LN, ATT, LORA = (exercise(n) for n in EXERCISES)

# (exercise, answer, a function making the planted wrong answer, what the hint must say)
HINTS: list[tuple[str, str, Any, str]] = [
    # shape mismatches
    ("mlp", "dW1", lambda: np.zeros((3, 3)), "shape mismatch: the answer is (3, 3), the gradient (5, 6)"),
    ("mlp", "dW2", lambda: T("mlp")["dW2"].T, "transposed: dW2.T matches (shape mismatch"),
    ("mlp", "db1", lambda: T("mlp")["dz1"], "not summed yet; the variable was broadcast along axis 1,"),
    ("mlp", "db1", lambda: T("mlp")["dz1"].sum(axis=0), "summed over the wrong axis: the answer is the sum over "
     "axis=0"),
    ("mlp", "db1", lambda: T("mlp")["dz1"].sum(axis=1), "singleton dim kept or dropped"),
    ("mlp", "dW1", lambda: T("mlp")["dW1"].reshape(6, 5), "in another layout: reshaped instead of transposed"),
    ("mlp", "dz1", lambda: T("mlp")["dz1"].sum(axis=0), "the gradient summed over axis=0: that axis must be kept"),
    ("layernorm", "dgamma", lambda: LN.xhat * LN.dout, "not summed yet"),
    ("layernorm", "dgamma", lambda: (LN.xhat * LN.dout).sum(axis=1), "summed over the wrong axis: the answer is the "
     "sum over axis=1"),
    ("softmax_ce", "dlogits", lambda: np.ones((8, 5)), "no simple relation found"),
    # same shape: transposed, a factor, the sign
    ("attention", "drho", lambda: T("attention")["drho"].T, "transposed: drho.T matches"),
    ("softmax_ce", "dlogits", lambda: T("softmax_ce")["dlogits"] * 8, "softmax − onehot, but not divided by N"),
    ("softmax_ce", "dlogits", lambda: T("softmax_ce")["dlogits"] / 8, "c = 0.125 (= 1/N)"),
    ("attention", "dq", lambda: T("attention")["dq"] * 2, "off by a factor: answer ≈ c · truth with c = 2 (= √d_h)"),
    ("lora", "dA", lambda: T("lora")["dA"] / 3, "c = 0.333333 (= 1/s)"),
    ("layernorm", "dbeta", lambda: -T("layernorm")["dbeta"], "wrong sign"),
    ("gates", "dx", lambda: 8.0, "wrong sign"),  # a scalar: only a recognisable factor is named
    ("staged_f", "dxpy", lambda: 0.5 * T("staged_f")["dxpy"], "c = 0.5 (= 1/2)"),
    # a missing term, a term counted twice
    ("staged_f", "dx", lambda: T("staged_f")["dxpy"], "missing a term: the answer is the contribution through xpy "
     "only; add through σ(x), through num"),
    ("staged_f", "dx", lambda: T("staged_f")["dxpy"] + T("staged_f")["dnum"], "through xpy, through num only"),
    ("staged_f", "dy", lambda: T("staged_f")["dy"] + T("staged_f")["dxpy"], "a term counted twice: the answer is the "
     "truth plus the contribution through xpy"),
    ("lora", "dx", lambda: LORA.dout @ LORA.W0, "the contribution of the frozen path dout W0 only; add of the "
     "low-rank path"),
    ("lora", "dx", lambda: 3.0 * LORA.dout @ LORA.B @ LORA.A, "the contribution of the low-rank path s · dout B A "
     "only"),
    ("layernorm", "dx", lambda: LN.inv_sigma * LN.dout * LN.gamma, "the contribution directly (x − μ) only; add "
     "through μ, through σ"),
    ("attention", "dS", lambda: ATT.rho * T("attention")["drho"], "the contribution ρ ∘ G (the diag(ρ) part) only"),
    ("softmax_ce", "dlogits", lambda: CE.probs / 8, "the contribution softmax / N only; add −onehot / N"),
    # the exercises' known mistakes
    ("mlp", "dz0", lambda: MLP.W1.T @ T("mlp")["dz1"], "the ReLU mask is missing: dz0 = dh1 ⊙ 1[z0 > 0]"),
    ("mlp", "dz1", lambda: MLP.W2.T @ T("mlp")["dz2"] * np.maximum(MLP.z1, 0), "not relu(z1) itself"),
    ("mlp", "dz2", lambda: MLP.y - MLP.z2, "y − z2 is −dz2"),
    ("attention", "dS", lambda: ATT.rho * (T("attention")["drho"] - (T("attention")["drho"] * ATT.rho).sum(0)),
     "the rowsum is over the last axis"),
    ("attention", "dk", lambda: T("attention")["dS"] @ ATT.q / 2, "dS was not transposed"),
    ("attention", "dq", lambda: T("attention")["dS"].T @ ATT.k / 2, "dSᵀ was used"),
    ("attention", "dv", lambda: ATT.rho @ ATT.dout, "ρ was not transposed"),
    ("gates", "dw", lambda: 2.0, "the loser w gets exactly 0"),
    ("gates", "du", lambda: 1.0, "at a tie the gradient is split, ½ to each input"),
    ("gates", "dv", lambda: 0.0, "u == v is a tie: neither input wins"),
    ("gates", "dz", lambda: 0.0, "and z > w: dz = dm"),
    ("gates", "dx", lambda: GATES.x * 2.0, "mul swaps"),
    ("gates", "dq", lambda: 1.0, "add distributes the upstream gradient unchanged"),
    ("staged_f", "dden", lambda: -1.0 / STAGED.den**2, "the numerator is missing"),
    ("layernorm", "dgamma", lambda: (LN.xhat * LN.dout * LN.gamma).sum(0), "the gradient at out, not at xhat"),
    # answers that are not numbers, nan, float32, a frozen weight given a gradient
    ("mlp", "dW0", lambda: np.full((6, 4), np.nan), "contains nan or inf"),
    ("gates", "ds", lambda: Value(2.0), "a Value"),
    ("gates", "ds", lambda: "2", "not a number"),
    ("mlp", "dW0", lambda: T("mlp")["dW0"].astype(np.float32), "right to float32 precision only"),
    ("lora", "dW0", lambda: np.zeros((4, 5)), "dW0 gets no gradient: W₀ is frozen"),
    # just outside APPROX_TOL (it said "off by a factor c = 1"), and all zeros (it said "not ... scaled")
    ("mlp", "dz2", lambda: T("mlp")["dz2"] * (1 + 3e-9), "close, but outside the tolerance: max|answer − engine|"),
    ("gates", "ds", lambda: 2.0 * (1 + 1e-9), "close, but outside the tolerance"),
    ("mlp", "dW1", lambda: np.zeros((5, 6)), "the answer is 0 everywhere, but the gradient is not"),
    ("gates", "dx", lambda: 0, "the answer is 0, but the gradient is not"),
    # in float32 the same mistakes are named (at 1e-8 its rounding hid them: "not transposed, scaled, negated")
    ("mlp", "dW2", lambda: (2 * T("mlp")["dW2"]).astype(np.float32), "off by a factor: answer ≈ c · truth with c = 2"),
    ("attention", "drho", lambda: T("attention")["drho"].T.astype(np.float32), "transposed: drho.T matches"),
    ("layernorm", "dbeta", lambda: (-T("layernorm")["dbeta"]).astype(np.float32), "wrong sign"),
    ("mlp", "db2", lambda: T("mlp")["dz2"].astype(np.float32), "not summed yet"),
    ("mlp", "dW1", lambda: T("mlp")["dW1"].sum(), "the gradient summed over all axes: those axes must be kept"),
]


@pytest.mark.parametrize(("name", "answer", "make", "expected"), HINTS,
                         ids=[f"{n}-{a}-{i}" for i, (n, a, _, _) in enumerate(HINTS)])
def test_every_hint_names_its_planted_mistake(name: str, answer: str, make: Any, expected: str) -> None:
    wrong_name, hint = first_hint(name, **{answer: make()})
    assert wrong_name == answer
    assert expected in hint, hint


def test_only_the_first_wrong_row_shows_its_hint_and_the_frozen_weight_is_answered_with_none() -> None:
    t = T("mlp")
    result = check_exercise("mlp", **(t | {"dz1": t["dz1"] * 2, "dW1": t["dW1"] * 2}))
    assert [r.name for r in result.rows if r.verdict == "wrong"] == ["dz1", "dW1"]
    assert result.first_wrong is not None and result.first_wrong.name == "dz1"
    text = str(result)
    assert text.count("off by a factor") == 1 and "c = 2" in text
    lora = T("lora")
    assert check_exercise("lora", **lora).rows[3].verdict == "exact"  # dW0 = None
    assert [r.verdict for r in check_exercise("lora", **(lora | {"dW0": ...})).rows[3:]] == ["missing", "exact"]


def test_a_torch_tensor_that_requires_grad_is_read_like_a_tensor_of_ours(torch) -> None:
    """An answer computed with torch autograd is graded by its numbers, as a tinygrad_tx Tensor is (NumPy
    refuses to read a torch tensor that requires grad)."""
    t = T("mlp")
    answer = torch.tensor(t["dW2"], requires_grad=True)
    assert check_exercise("mlp", dW2=answer).rows[1].verdict == "exact"
    assert check_exercise("gates", ds=torch.tensor(2.0, dtype=torch.float64, requires_grad=True)).rows[0].verdict \
        == "exact"


def test_hints_cover_every_exercise() -> None:
    assert {name for name, *_ in HINTS} == set(EXERCISES)


# ----------------------------------------------------------------------------------- the notebooks


def make_blanks() -> ModuleType:
    """notebooks/exercises/make_blanks.py as a module (it needs nbformat, from the test extra)."""
    pytest.importorskip("nbformat")
    spec = importlib.util.spec_from_file_location("make_blanks", EXERCISE_DIR / "make_blanks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(path: Path) -> Any:
    """The notebook at ``path`` (nbformat comes with the test extra; without it these tests skip, the
    grader's tests above still run)."""
    return pytest.importorskip("nbformat").read(path, as_version=4)


def test_the_committed_blanks_are_what_make_blanks_makes_from_the_solutions() -> None:
    mb = make_blanks()
    assert len(SOLVED) >= 2
    blanks = sorted(EXERCISE_DIR.glob("*.ipynb"))
    assert [p.name for p in blanks] == [p.name for p in SOLVED]
    for solved in SOLVED:
        assert (EXERCISE_DIR / solved.name).read_text(encoding="utf-8") == mb.blank_text(solved), solved.name
    assert mb.main(["--check"]) == 0


def test_make_blanks_check_fails_on_a_stale_blank_and_writing_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mb = make_blanks()
    monkeypatch.setattr(mb, "blank_path", lambda solution: tmp_path / solution.name)
    assert mb.main(["--check"]) == 1 and not list(tmp_path.iterdir())  # --check writes nothing
    assert "out of date: 01_gates_and_staged_f.ipynb" in capsys.readouterr().err
    assert mb.main([]) == 0 and mb.main(["--check"]) == 0
    stale = tmp_path / SOLVED[0].name
    stale.write_text(stale.read_text(encoding="utf-8").replace("your answer", "yuor answer"), encoding="utf-8")
    assert mb.main(["--check"]) == 1


def test_blank_lines() -> None:
    mb = make_blanks()
    assert mb.blank_line("dW1 = dz1 @ h1.T  # ANSWER: dL/dW1, shape (5, 6)") == \
        "dW1 = None  # your answer: dL/dW1, shape (5, 6)"
    assert mb.blank_line("    dx += dnum  # ANSWER: through num") == \
        "    # dx += ...  # your answer: through num (uncomment and complete)"
    assert mb.blank_line("dW0 = None  # ANSWER(...): or None") == "dW0 = ...  # your answer: or None"
    assert mb.blank_line("x = ex.x  # given") == "x = ex.x  # given"
    with pytest.raises(mb.BlankError, match="cell 3 line 2: .* one assignment"):
        mb.blank_source("a = 1\nprint(a)  # ANSWER: a", "nb cell 3")


def test_the_exercise_notebooks_are_committed_without_outputs_and_every_answer_is_checked() -> None:
    for path in SOLVED + sorted(EXERCISE_DIR.glob("*.ipynb")):
        nb = read(path)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        checks = [c for c in code if "check" in c.metadata.get("tags", [])]
        assert checks, path.name
        assert all("check" in c.source for c in checks), path.name
    for solved in SOLVED:  # every marked answer of a solved notebook is passed to a check
        nb = read(solved)
        source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        checked = "\n".join(c.source for c in nb.cells if "check" in c.metadata.get("tags", []))
        for line in source.splitlines():
            if "# ANSWER" in line:
                target = line.split("+=")[0].split("=")[0].strip()
                assert f"{target}={target}" in checked, (solved.name, target)


def test_all_seven_exercises_appear_in_the_notebooks() -> None:
    source = "\n".join(c.source for p in SOLVED for c in read(p).cells)
    for name in EXERCISES:
        assert f'exercise("{name}")' in source or f'check_exercise("{name}"' in source, name


def _check_outputs(nb: Any) -> list[str]:
    return [output_text(c) for c in nb.cells if "check" in c.metadata.get("tags", [])]


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLVED, ids=lambda p: f"solved-{p.name}")
def test_solved_notebook_passes_every_check(path: Path, kernel_specs: KernelSpecManager) -> None:
    nb = read(path)
    execute(nb, path.parent, kernel_specs)
    outputs = _check_outputs(nb)
    assert outputs and all("all passed" in out and "not yet" not in out for out in outputs), outputs


@pytest.mark.slow
@pytest.mark.parametrize("path", [EXERCISE_DIR / p.name for p in SOLVED], ids=lambda p: f"blank-{p.name}")
def test_blank_notebook_runs_and_reports_missing(path: Path, kernel_specs: KernelSpecManager) -> None:
    nb = read(path)
    execute(nb, path.parent, kernel_specs)  # raises if any cell raises: the blanks must run
    outputs = _check_outputs(nb)
    assert outputs and all("missing" in out and "not yet" in out and "all passed" not in out for out in outputs)


def test_the_exercise_notebooks_are_not_collected_by_test_notebooks() -> None:
    """tests/test_notebooks.py globs notebooks/*.ipynb: the exercises (in a subfolder) are not run twice."""
    top = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    assert top and all(p.parent == NOTEBOOK_DIR for p in top)
    assert not {p.name for p in top} & {p.name for p in SOLVED}
