# "Learning PyTorch with Examples", part 1: a two-layer net with tensors and a hand-written backward.
import math

import numpy as np
import torch

dtype = torch.float64
device = torch.device("cpu")

rng = np.random.default_rng(0)
x = torch.linspace(-math.pi, math.pi, 200, device=device, dtype=dtype)
y = torch.sin(x)
a = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)
b = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)
c = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)
d = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)

learning_rate = 1e-6
for t in range(500):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(t, round(loss, 6))
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d

# the matrix form: h = relu(x W1), y = h W2, backward by hand
N, D_in, H, D_out = 16, 10, 20, 3
X = torch.from_numpy(rng.standard_normal((N, D_in)))
Y = torch.from_numpy(rng.standard_normal((N, D_out)))
w1 = torch.from_numpy(rng.standard_normal((D_in, H)) * 0.1)
w2 = torch.from_numpy(rng.standard_normal((H, D_out)) * 0.1)
for t in range(50):
    h = X.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)
    loss = (y_pred - Y).pow(2).sum()
    grad_y_pred = 2.0 * (y_pred - Y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h_relu = grad_y_pred.mm(w2.t())
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_w1 = X.t().mm(grad_h)
    w1 -= 1e-3 * grad_w1
    w2 -= 1e-3 * grad_w2
print(f"Result: y = {a.item():.6f} + {b.item():.6f} x + {c.item():.6f} x^2 + {d.item():.6f} x^3")

RESULTS = {"a, b, c, d": torch.stack([a, b, c, d]), "w1": w1, "w2": w2, "loss": loss}
