"`torch.compile` of a model with a robust loss gives eager's losses and gradients (and, for ELR, its running averages)."
import pytest, torch
from torch import nn
from fastai_ls.robust_losses import ANLCEFlat, BootstrappingCE, ELRLoss

def _run(model, lf, x, y, f):
    model.zero_grad()
    loss = f(x, y)
    loss.backward()
    return loss.detach(), model.weight.grad.clone()

@pytest.mark.parametrize('make', [ANLCEFlat, BootstrappingCE], ids=['ANLCEFlat', 'soft bootstrap'])
def test_compile_matches_eager(make):
    "Eager runs the closed-form autograd function; compiled, the loss traces torch's own operations."
    torch.manual_seed(0)
    model, lf = nn.Linear(12, 10), make()
    x, y = torch.randn(32, 12) * 4, torch.randint(0, 10, (32,)) # large enough that ANL-CE clamps some probabilities
    step = lambda x, y: lf(model(x), y)
    eager, compiled = _run(model, lf, x, y, step), _run(model, lf, x, y, torch.compile(step, fullgraph=True))
    for e, c in zip(eager, compiled): torch.testing.assert_close(c, e, rtol=1e-5, atol=1e-6)

def test_compile_elr_matches_eager():
    "ELR under `torch.compile`: the same loss, gradient and updated averages as eager, on a second step too."
    torch.manual_seed(0)
    model, idx = nn.Linear(12, 10), torch.tensor([4, 0, 7, 2, 9, 1, 3, 8])
    x, y = torch.randn(8, 12) * 3, torch.randint(0, 10, (8,))
    out = []
    for compile in (False, True):
        lf = ELRLoss(10); lf.idx = idx
        step = lambda x, y: lf(model(x), y)
        f = torch.compile(step, fullgraph=True) if compile else step
        _run(model, lf, x, y, f) # a first step fills the averages
        out.append((*_run(model, lf, x, y, f), lf.target.clone()))
    for e, c in zip(*out): torch.testing.assert_close(c, e, rtol=1e-5, atol=1e-6)
