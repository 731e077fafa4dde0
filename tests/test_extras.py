"The optional extras: fastai_ls[distributed] (accelerate, for distrib_ctx) and fastai_ls[ray] (the sweep on Ray); the base install works without them."
import configparser, importlib.metadata as md, importlib.util, subprocess, sys
from pathlib import Path
import pytest

root = Path(__file__).resolve().parent.parent
PINS = {'distributed': 'accelerate>=1.15,<2', 'ray': 'ray[client]==2.60.0'}

def test_extras_are_pinned_with_a_reason():
    cfg = configparser.ConfigParser(); cfg.read(root/'settings.ini')
    text = (root/'settings.ini').read_text()
    for extra, pin in PINS.items():
        assert cfg['DEFAULT'][f'{extra}_requirements'] == pin and f'# {pin}:' in text, pin
    assert {'distributed', 'ray'} <= set(md.metadata('fastai_ls').get_all('Provides-Extra')) # what setup.py made of them

def _version(p): return tuple(int(x) for x in md.version(p).split('+')[0].split('.')[:3])

@pytest.mark.skipif(importlib.util.find_spec('accelerate') is None, reason="fastai_ls[distributed] is not installed")
def test_accelerate_respects_the_pin():
    assert (1, 15) <= _version('accelerate') < (2,)

@pytest.mark.skipif(importlib.util.find_spec('ray') is None, reason="fastai_ls[ray] is not installed")
def test_ray_respects_the_pin():
    assert _version('ray') == (2, 60, 0)
    assert importlib.util.find_spec('grpc') is not None # ray[client], for ray:// addresses

@pytest.mark.parametrize('extra, flag, line', [
    ('ray', "ray='local'", "--ray needs Ray, which is not installed: pip install 'fastai_ls[ray]'"),
    ('cleanlab', "methods='ce,clean:ce'",
     "--methods clean:ce needs cleanlab, which is not installed: pip install 'fastai_ls[cleanlab]'")])
def test_missing_extra_is_one_line(tmp_path, extra, flag, line):
    "Without Ray (for --ray) or cleanlab (for cleaning methods), the sweep says in one line how to install it, before it runs."
    code = (f"import sys; sys.modules[{extra!r}] = None; from fastai_ls.sweep import fastai_ls_sweep; "
            f"fastai_ls_sweep(dataset='digits', {flag}, out={str(tmp_path/'out')!r})")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [f"fastai_ls_sweep: {line}"], r.stderr
    assert not (tmp_path/'out').exists()

def test_cleaned_learner_refuses_without_cleanlab_before_training(tmp_path):
    "Without cleanlab, `cleaned_learner` says how to install it before its folds train (none is kept in `out`)."
    code = ("import sys; sys.modules['cleanlab'] = None; from fastai_ls.cleaning import cleaned_learner; "
            f"cleaned_learner('digits', rate=0.4, epochs=1, out={str(tmp_path/'folds')!r}, show=False)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == (
        "ImportError: cleaned_learner needs cleanlab, which is not installed: pip install 'fastai_ls[cleanlab]'"), r.stderr
    assert not (tmp_path/'folds').exists()

def _python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)

def test_the_package_imports_without_accelerate():
    "With no extra (accelerate, ray, cleanlab hidden), `fastai_ls.all` imports; `fastai_ls.distributed` names its extra."
    hide = "import sys; sys.modules.update(accelerate=None, ray=None, cleanlab=None); " # every extra missing
    r = _python(hide + "from fastai_ls.all import *; import fastai_ls.callbacks, fastai_ls.mislabels, fastai_ls.sweep, "
                "fastai_ls.bench, fastai_ls.robust_losses; print('ok')")
    assert r.returncode == 0 and r.stdout.strip() == 'ok', r.stderr[-3000:]
    r = _python("import sys; sys.modules['accelerate'] = None; import fastai_ls.distributed")
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == (
        "ImportError: fastai_ls.distributed needs accelerate, which fastai's distrib_ctx runs on: "
        "pip install 'fastai_ls[distributed]'"), r.stderr[-3000:]

@pytest.mark.skipif(importlib.util.find_spec('accelerate') is None, reason="fastai_ls[distributed] is not installed")
def test_importing_the_package_changes_nothing_in_fastai():
    "fastai's classes hold what fastai defines, after `fastai_ls.all` and after `fastai_ls.distributed` too."
    r = _python("""
from fastai.vision.all import * # fastai patches its own Learner as its modules load
import fastai.distributed as d, fastai.learner as l
before = {c: dict(vars(c)) for c in (d.DistributedTrainer, d.DistributedDL, l.Learner)}
from fastai_ls.all import *
import fastai_ls.distributed
changed = [f'{c.__name__}.{k}' for c, v in before.items() for k in set(v) | set(vars(c)) if vars(c).get(k) is not v.get(k)]
assert not changed, changed
print('ok')""")
    assert r.returncode == 0 and r.stdout.strip() == 'ok', r.stderr[-3000:]
