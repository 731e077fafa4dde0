"`torch.compile` of a model with the label-smoothing losses gives eager's losses and gradients, on both of eager's paths."
import pytest, torch
from torch import nn
from fastai_ls.losses import LabelSmoothingCEFlat, LabelSmoothingBCEFlat, NATIVE_BELOW

@pytest.mark.parametrize('N,K', [(16, 10), (64, 4096)])
def test_compile_matches_eager(N, K):
    "Below `NATIVE_BELOW` logits eager runs the short form, above it the closed form; compiled, both trace torch's loss."
    assert (N * K < NATIVE_BELOW) == (K == 10)
    torch.manual_seed(0)
    model = nn.Linear(12, K)
    ce, bce = LabelSmoothingCEFlat(eps=0.1), LabelSmoothingBCEFlat(eps=0.1)
    def step(x, y, yb):
        out = model(x)
        return ce(out, y), bce(out, yb)
    x, y, yb = torch.randn(N, 12), torch.randint(0, K, (N,)), torch.randint(0, 2, (N, K)).float()
    def run(f):
        model.zero_grad()
        l_ce, l_bce = f(x, y, yb)
        (l_ce + l_bce).backward()
        return l_ce.detach(), l_bce.detach(), model.weight.grad.clone()
    eager, compiled = run(step), run(torch.compile(step, fullgraph=True))
    for e, c in zip(eager, compiled): torch.testing.assert_close(c, e, rtol=1e-5, atol=1e-6)
