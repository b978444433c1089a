# What a learner reads: printed tensors, shapes, dtypes, grad_fn names.
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
print(x)
y = x * 2
print(y)
print(y.grad_fn.name(), [type(f).__name__ if f is not None else None for f, _ in y.grad_fn.next_functions])
z = y.sum()
print(z)
print(z.grad_fn.name())
print(torch.tensor([1, 2, 3]))
print(torch.tensor([[True, False]]))
print(torch.zeros(2, 3))
print(torch.tensor([[1.5, -2.25], [1e-3, 100.0]]))
print(torch.tensor(3.14159))
print(torch.arange(6).view(2, 3).shape, torch.ones(4, 5).size(1), torch.ones(2, 3).dtype, torch.tensor([1]).dtype)
print(torch.tensor([1.0, 2.0], dtype=torch.float64))
print(torch.tensor([0.1, 0.25], dtype=torch.float64, requires_grad=True) * 3)
print(x.detach())
print(x.mean())
z.backward()
print(x.grad)
print(x.is_leaf, y.is_leaf, y.requires_grad)
RESULTS = {"x.grad": x.grad}
