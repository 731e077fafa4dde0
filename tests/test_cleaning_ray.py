"""`cross_val_probs` on a local Ray of 2 CPUs against the same folds in one process, on the digits."""
import importlib.util, os, subprocess, sys
import numpy as np
import pytest

if importlib.util.find_spec('ray') is None:
    pytest.skip("cross_val_probs on Ray needs Ray: pip install -e '.[dev,ray]'", allow_module_level=True)

ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'RAY_OVERRIDE_RESOURCES': '{"CPU": 2}',
       'RAY_USAGE_STATS_ENABLED': '0', 'PYTHONWARNINGS': 'ignore'}

def _run(tmp, name, ray):
    code = (f"import numpy as np, torch; torch.set_num_threads(1); from fastai_ls.cleaning import cross_val_probs; "
            f"p = cross_val_probs('digits', rate=0.4, seed=0, n_per_class=60, k=3, epochs=4, bs=32, "
            f"out={str(tmp/name)!r}, ray={ray!r}); np.save({str(tmp/(name + '.npy'))!r}, p)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=ENV, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return np.load(tmp/(name + '.npy')), r.stdout

def test_ray_gives_the_same_probabilities(tmp_path):
    here, _ = _run(tmp_path, 'here', None)
    there, out = _run(tmp_path, 'ray', 'local')
    assert '3 to train' in out and '[3/3]' in out, out
    assert not np.isnan(there).any()
    np.testing.assert_allclose(there, here, atol=1e-4) # the same folds, seeds and threads: float noise at most
    # the folds Ray wrote are those a rerun in one process reads: it trains nothing
    again, out = _run(tmp_path, 'ray', None)
    assert '3 already in' in out and '0 to train' in out, out
    np.testing.assert_array_equal(again, there)
