# "Learning PyTorch with Examples", part 2: the same net with autograd.
import math

import numpy as np
import torch

dtype = torch.double
device = "cpu"
rng = np.random.default_rng(1)

x = torch.linspace(-math.pi, math.pi, 200, device=device, dtype=dtype)
y = torch.sin(x)
a = torch.tensor(rng.standard_normal(), device=device, dtype=dtype, requires_grad=True)
b = torch.tensor(rng.standard_normal(), device=device, dtype=dtype, requires_grad=True)
c = torch.tensor(rng.standard_normal(), device=device, dtype=dtype, requires_grad=True)
d = torch.tensor(rng.standard_normal(), device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(300):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, round(loss.item(), 6))
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad.zero_()
        d.grad.zero_()

# the matrix form, with .grad as tensors and .data updates
N, D_in, H, D_out = 16, 10, 20, 3
X = torch.tensor(rng.standard_normal((N, D_in)))
Y = torch.tensor(rng.standard_normal((N, D_out)))
w1 = torch.tensor(rng.standard_normal((D_in, H)) * 0.1, requires_grad=True)
w2 = torch.tensor(rng.standard_normal((H, D_out)) * 0.1, requires_grad=True)
norms = []
for t in range(30):
    y_pred = X.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - Y).pow(2).sum()
    loss.backward()
    norms.append(w1.grad.norm().item() + w2.grad.abs().max().item())
    w1.data += -1e-3 * w1.grad.data
    w2.data.add_(w2.grad, alpha=-1e-3)
    w1.grad.zero_()
    w2.grad.data.zero_()
print(f"Result: y = {a.item():.6f} + {b.item():.6f} x + {c.item():.6f} x^2 + {d.item():.6f} x^3")

RESULTS = {"a, b, c, d": torch.stack([a, b, c, d]), "w1": w1, "w2": w2, "norms": torch.tensor(norms), "loss": loss}
