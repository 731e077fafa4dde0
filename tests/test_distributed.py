"""fastai's distributed training on the CPU: two processes under `torchrun` (gloo) against one, same global batches.

`ddp_train.py` trains three small digits `Learner`s (LabelSmoothingCEFlat with EpsScheduler and NoiseMonitor, then
get_preds, find_label_issues, TemperatureScaler and clean_metrics; SoftTargetCE with LabelSmoothingCallback; and
LabelSmoothingBCEFlat). Run once in one process at batch size 64, and once under `torchrun --nproc_per_node 2` at 32 a
process, it must give the same numbers, step by step.

The two runs also use different CPU kernels: the reference runs under `ATEN_CPU_CAPABILITY=default` (torch's scalar
kernels), the two processes under the machine's own (AVX2 or AVX512), so the comparison holds on every CPU that CI may
run on. `ddp_train.py` keeps the weights in float64 for that (measured on an AVX2 machine: losses within 2e-7, the
temperature within 1e-9, where float32 weights drift apart by 1e-4 on an AVX512 one).
"""
import importlib.util, json, os, re, subprocess, sys
from pathlib import Path
import numpy as np
import pytest

here = Path(__file__).resolve().parent
if importlib.util.find_spec('accelerate') is None:
    pytest.skip("fastai's distrib_ctx needs accelerate: pip install -e '.[dev,distributed]'", allow_module_level=True)

def _run(cmd, tmp_path, **env):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore', **env}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return r

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "The JSON of the reference and of the two-process run, and the stdout of each process of the latter."
    tmp = tmp_path_factory.mktemp('ddp')
    _run([sys.executable, here/'ddp_train.py', tmp/'one.json'], tmp, ATEN_CPU_CAPABILITY='default')
    logs = tmp/'logs'
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2']
    _run([*torchrun, '--log-dir', logs, '--redirects', '3', here/'ddp_train.py', tmp/'two.json'], tmp)
    stdout = {int(p.parent.name): p.read_text() for p in logs.rglob('stdout.log')}
    one, two = (json.loads((tmp/f).read_text()) for f in ('one.json', 'two.json'))
    return one, two, stdout

def test_the_runs_are_what_they_claim(runs):
    one, two, stdout = runs
    assert (one['world'], one['bs']) == (1, 64) and (two['world'], two['bs']) == (2, 32)
    assert sorted(stdout) == [0, 1]
    assert one['kernels'] == 'DEFAULT', one['kernels'] # the reference ran on torch's scalar kernels

@pytest.mark.parametrize('i', [0, 1, 2], ids=['ce', 'soft', 'bce'])
def test_same_losses_step_by_step(runs, i):
    one, two = runs[0]['runs'][i], runs[1]['runs'][i]
    assert one['n_steps'] == two['n_steps'] > 10
    np.testing.assert_allclose(two['losses'], one['losses'], rtol=1e-4, atol=1e-5)
    assert np.std(one['losses']) > 0.01 # the losses move: the comparison is not of constants
    np.testing.assert_allclose(two['recorder'][-1][0], one['recorder'][-1][0], rtol=1e-4) # train_loss of the last epoch

@pytest.mark.parametrize('i', [0, 1, 2], ids=['ce', 'soft', 'bce'])
def test_every_process_uses_the_same_eps(runs, i):
    one, two = runs[0]['runs'][i], runs[1]['runs'][i]
    eps2 = np.array(two['eps'])
    assert eps2.shape == (two['n_steps'], 2) and (eps2[:, 0] == eps2[:, 1]).all()
    np.testing.assert_allclose(eps2[:, 0], np.array(one['eps'])[:, 0], atol=1e-7)
    assert eps2[0, 0] > eps2[-1, 0] # the schedule ran to its end in both
    np.testing.assert_allclose(eps2[-1, 0], np.array(one['eps'])[-1, 0], atol=1e-7)

@pytest.mark.parametrize('i', [0, 1, 2], ids=['ce', 'soft', 'bce'])
def test_metrics_count_each_item_once(runs, i):
    one, two = runs[0]['runs'][i], runs[1]['runs'][i]
    names = one['metric_names']
    ece = names.index('ece') - 1 # recorder values start after the epoch column
    np.testing.assert_allclose(two['recorder'][-1][ece], one['recorder'][-1][ece], rtol=1e-4, atol=1e-6)
    # fastai's AvgMetric (accuracy) averages each process's batch means: the repeat among 363 validation items counts
    acc = ece - 1
    assert abs(two['recorder'][-1][acc] - one['recorder'][-1][acc]) <= 1 / 363 + 1e-6

@pytest.mark.parametrize('i', [0, 1, 2], ids=['ce', 'soft', 'bce'])
def test_noise_monitor_counts_each_item_once(runs, i):
    one, two = runs[0]['runs'][i], runs[1]['runs'][i]
    assert len(one['noise_monitor']) == len(two['noise_monitor']) > 0
    for a, b in zip(one['noise_monitor'], two['noise_monitor']):
        assert (a['epoch'], a['subset'], a['n']) == (b['epoch'], b['subset'], b['n'])
        tol = 1 / a['n'] + 1e-9 # at most one prediction flipped by float rounding
        np.testing.assert_allclose([b['acc_clean'], b['acc_given']], [a['acc_clean'], a['acc_given']], atol=tol)
    assert sum(r['n'] for r in one['noise_monitor'] if r['epoch'] == 0) == (1001 if i == 0 else 1434) # not 1002 or 1436

def test_get_preds_in_dataset_order(runs):
    one, two = runs[0]['runs'][0], runs[1]['runs'][0]
    assert two['targs'] == two['valid_y'] == one['targs'] # 363 items, in order, the repeat dropped
    np.testing.assert_allclose(two['preds'], one['preds'], atol=1e-5)

def test_find_label_issues_ranks_each_item_once(runs):
    one, two = runs[0]['runs'][0], runs[1]['runs'][0]
    assert sorted(two['issues_idx']) == list(range(1001))
    score1 = dict(zip(one['issues_idx'], one['issues_score']))
    score2 = dict(zip(two['issues_idx'], two['issues_score']))
    np.testing.assert_allclose([score2[k] for k in range(1001)], [score1[k] for k in range(1001)], rtol=1e-4, atol=1e-5)
    ref_in_two_order = np.array([score1[k] for k in two['issues_idx']])
    assert (np.diff(ref_in_two_order) <= 1e-5).all() # the same ranking, up to ties within float rounding

def test_temperature_and_clean_metrics(runs):
    one, two = runs[0]['runs'][0], runs[1]['runs'][0]
    np.testing.assert_allclose(two['temperature'], one['temperature'], rtol=1e-3)
    for k in ('test_acc', 'ece', 'nll'):
        np.testing.assert_allclose(two['clean'][k], one['clean'][k], rtol=1e-4, atol=1e-6)

def test_only_process_0_prints(runs):
    _, _, stdout = runs
    assert len(re.findall(r"^\[\d+, ", stdout[0], re.M)) == 4, stdout[0] # a line per epoch of the three fits
    assert not stdout[1].strip(), stdout[1]
