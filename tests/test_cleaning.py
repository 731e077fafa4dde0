"The cleanlab extra: pinned with its reason, imported only where it is used, and named when it is missing."
import configparser, importlib.util, subprocess, sys
from pathlib import Path
import pytest

root = Path(__file__).resolve().parent.parent

def _python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=root)

def test_cleanlab_is_pinned_with_a_reason():
    cfg = configparser.ConfigParser(); cfg.read(root/'settings.ini')
    pin = 'cleanlab>=2.9,<3'
    assert cfg['DEFAULT']['cleanlab_requirements'] == pin and f'# {pin}:' in (root/'settings.ini').read_text()
    assert "'cleanlab'" in (root/'setup.py').read_text() and ',cleanlab]' in (root/'.ci'/'install').read_text()

def test_cleaning_imports_without_cleanlab_and_names_the_extra():
    "Without cleanlab, the module imports, ranking works, and filter_by / estimate_noise end with one line naming the extra."
    code = """
import sys; sys.modules['cleanlab'] = None
import numpy as np
from fastai_ls.all import *
import fastai_ls.cleaning
p, y = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), np.array([0, 0, 1])
print(find_label_issues(probs=p, labels=y).idx.tolist())
for f in (lambda: find_label_issues(probs=p, labels=y, filter_by='both'), lambda: estimate_noise(p, y)):
    try: f()
    except ImportError as e: print(e)
"""
    r = _python(code)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.splitlines() == ['[1, 2, 0]',
        "filter_by needs cleanlab, which is not installed: pip install 'fastai_ls[cleanlab]'",
        "estimate_noise needs cleanlab, which is not installed: pip install 'fastai_ls[cleanlab]'"], r.stdout

@pytest.mark.skipif(importlib.util.find_spec('cleanlab') is None, reason="fastai_ls[cleanlab] is not installed")
def test_cleanlab_respects_the_pin():
    import importlib.metadata as md
    v = tuple(int(x) for x in md.version('cleanlab').split('.')[:2])
    assert (2, 9) <= v < (3,)
