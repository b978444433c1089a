# "Learning PyTorch with Examples", part 3: a custom autograd.Function (the Legendre polynomial P3).
import math

import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.float64
rng = np.random.default_rng(2)
x = torch.linspace(-math.pi, math.pi, 200, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
for t in range(300):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, round(loss.item(), 6))
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None


class MulAdd(torch.autograd.Function):
    """Two inputs, a non-tensor argument and needs_input_grad."""

    @staticmethod
    def forward(ctx, u, v, k):
        ctx.save_for_backward(u, v)
        ctx.k = k
        return u * v + k * u

    @staticmethod
    def backward(ctx, g):
        u, v = ctx.saved_tensors
        gu = g * (v + ctx.k) if ctx.needs_input_grad[0] else None
        gv = g * u if ctx.needs_input_grad[1] else None
        return gu, gv, None


u = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
v = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
out = MulAdd.apply(u, v, 2.5).sin().sum()
out.backward()
print(f"Result: y = {a.item():.6f} + {b.item():.6f} * P3({c.item():.6f} + {d.item():.6f} x)")

RESULTS = {"a, b, c, d": torch.stack([a, b, c, d]), "u.grad": u.grad, "v.grad": v.grad, "out": out}
