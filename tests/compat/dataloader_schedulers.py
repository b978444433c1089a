# A training loop with utils.data and lr_scheduler, as tutorials write it.
import numpy as np
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(7)
X = torch.from_numpy(rng.standard_normal((60, 5)))
y = torch.from_numpy(rng.integers(0, 3, 60))
ds = TensorDataset(X, y)
print(len(ds), ds[0][0].shape, int(ds[3][1]))
loader = DataLoader(ds, batch_size=16, shuffle=False)
print(len(loader), [tuple(xb.shape) for xb, _ in loader])

model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
loss_fn = nn.CrossEntropyLoss()
opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.5, weight_decay=1e-3)
schedulers = [optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)]
lrs, losses = [], []
for epoch in range(6):
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    for s in schedulers:
        s.step()
    lrs.append(schedulers[0].get_last_lr()[0])
print([round(v, 6) for v in lrs])

opt2 = optim.AdamW(model.parameters(), lr=1e-2)
cos = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10, eta_min=1e-4)
lam = optim.lr_scheduler.LambdaLR(opt2, lambda step: 1.0 / (1 + step))
lrs2 = []
for step in range(12):
    opt2.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    opt2.step()
    cos.step()
    lam.step()
    lrs2.append(opt2.param_groups[0]["lr"])

RESULTS = {"lrs": torch.tensor(lrs), "lrs2": torch.tensor(lrs2), "losses": torch.tensor(losses),
           **model.state_dict()}
