"""Train small digits `Learner`s with each fastai_ls loss and callback, and write what they record as JSON.

Run in one process it is the reference: batch size `2 * BS`, no `distrib_ctx`. Under
`torchrun --nproc_per_node 2` each process takes `BS` items of every global batch inside `sharded_distrib_ctx(learn)`;
only process 0 writes the JSON. `tests/test_distributed.py` runs both and compares them.
Usage: python ddp_train.py OUT.json
"""
import contextlib, json, sys
import numpy as np
import torch
import fastai_ls.core # before fastai: it silences one fastai import warning
from fastai.vision.all import *
from fastai.distributed import *
from fastai_ls.data import digits_arrays, ImageArrays
from fastai_ls.dataloaders import noisy_dls
from fastai_ls.distributed import sharded_distrib_ctx
from fastai_ls.losses import LabelSmoothingCEFlat, LabelSmoothingBCEFlat, SoftTargetCE
from fastai_ls.callbacks import LabelSmoothingCallback, EpsScheduler, NoiseMonitor
from fastai_ls.calibration import ECE, TemperatureScaler
from fastai_ls.mislabels import find_label_issues
from fastai_ls.learner import clean_metrics

torch.set_num_threads(1)
# The weights and the layers' arithmetic in float64, the logits in float32 (fastai's losses and metrics are float32).
# In float32 throughout, a batch of 64 and two of 32 round differently in the matrix products, and on some CPUs
# (AVX512) the two runs drift apart by 1e-4 over the steps: that would test the CPU's kernels, not the package.
torch.set_default_dtype(torch.float64)
BS = 32 # per process; the reference takes 2 * BS
world = max(num_distrib(), 1)
bs = BS if world > 1 else 2 * BS

class StepLog(Callback):
    "Per training step: the loss of the global batch, and the `eps` that every process used."
    order = 100
    def __init__(self): self.losses, self.eps = [], []
    def after_batch(self):
        if not self.training: return
        self.losses.append(to_detach(self.loss.mean()).item()) # under DDP: the mean of the processes' means
        sched = getattr(self.learn, 'eps_scheduler', None)
        if sched is not None: self.eps.append(maybe_gather(torch.tensor([float(sched.target.eps)])).tolist())

class To(Module):
    "Cast the activations to `dtype`."
    def __init__(self, dtype): self.dtype = dtype
    def forward(self, x): return x.to(self.dtype)

def mlp(n_out): # no BatchNorm; float64 inside, float32 logits
    return nn.Sequential(To(torch.float64), nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, n_out),
                         To(torch.float32))

def distributed(learn):
    "fastai's DDP with whole global batches, on CPU processes: gloo, no SyncBatchNorm; `cpu=True` goes to accelerate."
    return sharded_distrib_ctx(learn, sync_bn=False, cpu=True) if world > 1 else contextlib.nullcontext()

def run(name, dls, model, loss, cbs, metrics, epochs, after=None):
    set_seed(0) # the same initial weights in every process and in the reference
    log = StepLog()
    learn = Learner(dls, model(), loss_func=loss, metrics=metrics, cbs=[*cbs, log])
    extra = {}
    with learn.no_bar(), distributed(learn):
        learn.fit_one_cycle(epochs, 1e-2)
        recorded = [[float(v) for v in row] for row in learn.recorder.values] # before get_preds starts a new record
        if after: extra = after(learn)
    nm = getattr(learn, 'noise_monitor', None)
    return {'name': name, 'losses': log.losses, 'eps': log.eps, 'n_steps': len(log.losses),
            'recorder': recorded,
            'metric_names': list(learn.recorder.metric_names), 'noise_monitor': nm.rows if nm else None, **extra}

def measure(learn):
    "What the package computes from a trained `Learner`: predictions, ranking, temperature, clean metrics."
    dls = learn.dls
    probs, targs = learn.get_preds()
    ranked = dls.test_dl(dls.train_ds.new(np.arange(1001)), with_labels=True) # 1001 items: the last batch is topped up
    issues = find_label_issues(learn, dl=ranked)
    return {'preds': probs.tolist(), 'targs': targs.tolist(), 'valid_y': dls.valid_ds.y.tolist(),
            'issues_idx': issues.idx.tolist(), 'issues_score': issues.score.tolist(),
            'temperature': TemperatureScaler().fit(learn).temperature, 'clean': clean_metrics(learn)}

digits = digits_arrays()
even_odd = ImageArrays(digits.x_train, digits.y_train % 2, digits.x_valid, digits.y_valid % 2, ['even', 'odd'])
dev = dict(device='cpu')
results = [
    run('ce', noisy_dls(digits, rate=0.3, bs=bs, **dev), partial(mlp, 10), LabelSmoothingCEFlat(0.1),
        [EpsScheduler(SchedLin(0.2, 0.05)), NoiseMonitor(n_items=1001)], [accuracy, ECE()], 2, after=measure),
    run('soft', noisy_dls(digits, rate=0.3, bs=bs, seed=1, **dev), partial(mlp, 10), SoftTargetCE(),
        [LabelSmoothingCallback(0.1), EpsScheduler(SchedCos(0.1, 0.)), NoiseMonitor()], [accuracy, ECE()], 1),
    run('bce', noisy_dls(even_odd, rate=0.2, bs=bs, **dev), lambda: nn.Sequential(mlp(1), nn.Flatten(0)),
        LabelSmoothingBCEFlat(0.1),
        [EpsScheduler(SchedLin(0.1, 0.)), NoiseMonitor()], [accuracy_multi, ECE(activation='sigmoid')], 1),
]
if rank_distrib() == 0:
    kernels = torch.backends.cpu.get_cpu_capability()
    with open(sys.argv[1], 'w') as f: json.dump({'world': world, 'bs': bs, 'kernels': kernels, 'runs': results}, f)
