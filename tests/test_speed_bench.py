"fastai_ls_bench: refused runs (--min_run_time, --rounds), the training bars and breakdown, the robust-loss rows."
import subprocess, sys
from pathlib import Path
import pandas as pd
import pytest
from fastai_ls.bench import check_bars, own_share, robust_bars, elr_memory, bench_robust_losses, _kept_bytes

bench_cmd = Path(sys.executable).parent/'fastai_ls_bench'

@pytest.mark.parametrize('flags, line', [
    (['--min_run_time', '-1'], "--min_run_time must be a finite number > 0, got -1.0"),
    (['--min_run_time', 'nan'], "--min_run_time must be a finite number > 0, got nan"),
    (['--min-run-time', '0', '--quick'], "--min_run_time must be a finite number > 0, got 0.0"),
    (['--rounds', '0'], "--rounds must be an integer >= 1, got 0"),
    (['--rounds', '-2'], "--rounds must be an integer >= 1, got -2")])
def test_bad_flags_one_line(flags, line):
    "Refused before anything is measured: one line on stderr, nothing on stdout, status 1 (was: timings; a traceback)."
    r = subprocess.run([bench_cmd, *flags], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (1, '', line + '\n')

def _bars(r256, r32, own=None):
    losses = pd.DataFrame([{'loss': 'CE', 'N': 256, 'K': 10, 'kernel': 'short form', 'ratio': 0.9, 'control': 1.0}])
    training = pd.DataFrame([{'bs': 256, 'ratio': r256}, {'bs': 32, 'ratio': r32}])
    bd = None if own is None else pd.DataFrame({'ms per batch': 5., 'added': 0., 'data ms': [.1, .2, own, .5, .5, .7]})
    return check_bars(losses, training=training, breakdown=bd).met.iloc[5:].tolist()

def test_training_bars():
    "bs 256 at 0.92 of the bare loop; bs 32 at 0.8, or the package's own share of a batch at most 0.5 ms."
    assert _bars(0.91, 0.85) == [False, True] and _bars(0.93, 0.79) == [True, False]
    assert _bars(0.93, 0.6, own=0.45) == [True, True] and _bars(0.93, 0.6, own=0.55) == [True, False]
    assert own_share(pd.DataFrame({'data ms': [0.1, 0.2, 0.3, 0.5, 0.5, 0.7]})) == pytest.approx(0.3)

def test_robust_rows():
    rl = bench_robust_losses(sizes=[(64, 10)], threads=(1,), min_run_time=0.01, rounds=1)
    assert len(rl) == 8 and (rl.ratio == rl.ms / rl['LabelSmoothingCEFlat ms']).all()
    assert rl.set_index('loss')['kept bytes'].to_dict()['ELRLoss'] == 64 * 10 * 4
    assert robust_bars(rl).met.tolist() == (rl.ratio <= 1.3).tolist()
    assert elr_memory(rl).endswith("64 × 10: 2,560 bytes")
    assert _kept_bytes(object()) == 0
