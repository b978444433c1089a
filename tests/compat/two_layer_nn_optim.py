# "Learning PyTorch with Examples", part 4: nn.Sequential, a loss module and an optimiser.
import math

import numpy as np
import torch
from torch import nn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(3)


def set_weights(model):
    """The same starting weights under both libraries (their random streams differ)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))


x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
set_weights(model)
loss_fn = torch.nn.MSELoss(reduction="sum")
learning_rate = 1e-6
for t in range(200):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, round(loss.item(), 6))
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
linear_layer = model[0]
print(f"Result: y = {linear_layer.bias.item():.6f} + {linear_layer.weight[:, 0].item():.6f} x + "
      f"{linear_layer.weight[:, 1].item():.6f} x^2 + {linear_layer.weight[:, 2].item():.6f} x^3")


class TwoLayerNet(nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.linear1 = nn.Linear(D_in, H)
        self.act = nn.ReLU()
        self.linear2 = nn.Linear(H, D_out)

    def forward(self, x):
        return self.linear2(self.act(self.linear1(x)))


N, D_in, H, D_out = 32, 8, 16, 4
X = torch.from_numpy(rng.standard_normal((N, D_in)))
Y = torch.from_numpy(rng.integers(0, D_out, N))
net = TwoLayerNet(D_in, H, D_out)
set_weights(net)
print(net)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
losses = []
for t in range(100):
    optimizer.zero_grad()
    loss = criterion(net(X), Y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

net2 = TwoLayerNet(D_in, H, D_out)
set_weights(net2)
opt2 = torch.optim.Adam([{"params": net2.linear1.parameters()},
                         {"params": net2.linear2.parameters(), "lr": 3e-3}], lr=1e-2, betas=(0.8, 0.99))
for t in range(50):
    opt2.zero_grad(set_to_none=True)
    loss2 = nn.functional.cross_entropy(net2(X), Y, label_smoothing=0.1)
    loss2.backward()
    opt2.step()
print(len(list(net2.parameters())), [tuple(p.shape) for p in net2.parameters()])

RESULTS = {"losses": torch.tensor(losses), "loss2": loss2,
           **{"net." + k: v for k, v in net.state_dict().items()},
           **{"net2." + k: v for k, v in net2.state_dict().items()}}
