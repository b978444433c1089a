# makemore part 3 style: a character MLP with an embedding table, Linear + BatchNorm1d + Tanh, trained by hand.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(4)
vocab_size, block_size, n_embd, n_hidden, n = 27, 3, 10, 64, 200
Xtr = torch.from_numpy(rng.integers(0, vocab_size, (n, block_size)))
Ytr = torch.from_numpy(rng.integers(0, vocab_size, n))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.C = nn.Embedding(vocab_size, n_embd)
        self.net = nn.Sequential(
            nn.Linear(n_embd * block_size, n_hidden, bias=False), nn.BatchNorm1d(n_hidden), nn.Tanh(),
            nn.Linear(n_hidden, n_hidden, bias=False), nn.BatchNorm1d(n_hidden), nn.Tanh(),
            nn.Linear(n_hidden, vocab_size),
        )

    def forward(self, idx):
        emb = self.C(idx)
        return self.net(emb.view(emb.shape[0], -1))


model = MLP()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.2))
    model.net[-1].weight *= 0.1
print(sum(p.nelement() for p in model.parameters()))

lossi = []
for i in range(300):
    ix = torch.from_numpy(rng.integers(0, n, 32))
    Xb, Yb = Xtr[ix], Ytr[ix]
    logits = model(Xb)
    loss = F.cross_entropy(logits, Yb)
    for p in model.parameters():
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 200 else 0.01
    for p in model.parameters():
        p.data += -lr * p.grad
    lossi.append(loss.log10().item())

model.eval()
with torch.no_grad():
    val_loss = F.cross_entropy(model(Xtr), Ytr)
print(f"val {val_loss.item():.6f}")
bn = model.net[1]
RESULTS = {"lossi": torch.tensor(lossi), "val": val_loss, "running_mean": bn.running_mean,
           "running_var": bn.running_var, "num_batches": bn.num_batches_tracked,
           **{k: v for k, v in model.state_dict().items()}}
