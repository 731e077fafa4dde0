"""`fastai_ls_sweep --ray local` on a local Ray of 2 CPUs against the sweep in one process, on a small digits grid.

The first Ray run loses a cell on purpose (its worker is killed, and Ray may not retry it): the cell must not be
written, and the rerun must train exactly that cell. The rows of the two Ray runs must then equal the in-process rows.
"""
import importlib.util, os, re, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest

if importlib.util.find_spec('ray') is None:
    pytest.skip("the sweep on Ray needs Ray: pip install -e '.[dev,ray]'", allow_module_level=True)
import psutil
from fastai_ls.sweep import read_results, MEASURE_COLS

GRID = dict(dataset='digits', rates='0,0.4', eps='0,0.1', seeds='0', n_per_class='60', epochs='15', bs='32') # as typed
ARGS = [a for k, v in GRID.items() for a in (f'--{k}', v)]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'RAY_OVERRIDE_RESOURCES': '{"CPU": 2}',
       'RAY_USAGE_STATS_ENABLED': '0', 'PYTHONWARNINGS': 'ignore'}
sweep_exe = Path(sys.executable).parent/'fastai_ls_sweep'
KEY = ['kind', 'rate', 'method', 'seed']

def _kill_one_cell(driver:subprocess.Popen, timeout:float=600):
    "Kill (SIGKILL) the first Ray worker of `driver` seen training a cell; returns its pid."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and driver.poll() is None:
        for p in psutil.Process(driver.pid).children(recursive=True):
            try:
                if ' '.join(p.cmdline()).startswith('ray::_ray_cell'): p.kill(); return p.pid
            except psutil.NoSuchProcess: pass
        time.sleep(0.05)
    raise AssertionError("no Ray worker was seen training a cell")

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ray')
    timed = {}
    start = time.perf_counter()
    r = subprocess.run([sweep_exe, *ARGS, '--out', tmp/'here'], capture_output=True, text=True, env=ENV, timeout=900)
    timed['in-process'] = time.perf_counter() - start
    assert r.returncode == 0, r.stderr
    # Ray, without retries, and one worker killed while it trains: its cell is lost
    no_retry = ("import fastai_ls.sweep as s; s.RAY_RETRIES = 0; "
                f"s.fastai_ls_sweep(**{GRID!r}, out={str(tmp/'ray')!r}, ray='local')")
    start = time.perf_counter()
    driver = subprocess.Popen([sys.executable, '-c', no_retry],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try: _kill_one_cell(driver)
    except BaseException: driver.send_signal(signal.SIGINT); raise # the sweep then shuts its Ray down
    finally: first = (*driver.communicate(timeout=900), driver.returncode)
    timed['ray, a cell lost'] = time.perf_counter() - start
    after_first = read_results(tmp/'ray'/'results.csv')
    start = time.perf_counter()
    second = subprocess.run([sweep_exe, *ARGS, '--out', tmp/'ray', '--ray', 'local'], capture_output=True, text=True,
                            env=ENV, timeout=900)
    timed['ray, the rerun'] = time.perf_counter() - start
    print(timed)
    return read_results(tmp/'here'/'results.csv'), after_first, first, second, read_results(tmp/'ray'/'results.csv')

def test_a_lost_cell_is_not_recorded(runs):
    _, after_first, (out, err, code), _, _ = runs
    assert code == 1 and 'were lost with their Ray workers' in err, err
    lost = re.findall(r'\[\d/4\] (.+?): lost with its worker', out) # e.g. "symmetric rate 0.4 ls:0.1 seed 0"
    assert len(lost) == 1 and len(after_first) == 3, out
    cell = lost[0]
    recorded = {f"{k} rate {r:g} {m} seed {s}" for k, r, m, s in after_first[KEY].itertuples(index=False)}
    assert cell not in recorded
    assert 'Ray: 2 CPUs and 0 GPUs; each cell takes one CPU' in out
    # a line per cell, off a terminal; Ray's own log lines (the raylet's note on the killed worker) are printed by a
    # thread of the driver and can land inside one, so the lines are found anywhere, not at line starts
    assert sorted(re.findall(r'\[(\d)/4\] ', out)) == ['1', '2', '3', '4'], out

def test_the_rerun_trains_only_the_lost_cell(runs):
    _, _, _, second, _ = runs
    assert second.returncode == 0, second.stderr
    assert '3 already in' in second.stdout and '1 to run' in second.stdout and '[1/1]' in second.stdout, second.stdout
    assert 'ls:0.1' in second.stdout # the summary table

def test_ray_rows_equal_in_process_rows(runs):
    here, _, _, _, ray = runs
    assert len(here) == len(ray) == 4 and not ray.duplicated(KEY).any()
    here, ray = here.sort_values(KEY).reset_index(drop=True), ray.sort_values(KEY).reset_index(drop=True)
    assert (here[KEY + ['settings', 'loss']] == ray[KEY + ['settings', 'loss']]).all().all()
    measures = [c for c in MEASURE_COLS if c != 'train_s']
    np.testing.assert_allclose(ray[measures].to_numpy(float), here[measures].to_numpy(float), rtol=1e-5, atol=1e-6)
    assert here.test_acc.nunique() > 1 # the cells differ: the comparison is not of one number
    assert set(ray.device) == {'cpu'}
