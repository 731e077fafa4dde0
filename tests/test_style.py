"House rules that a reader of the notebooks and the library would notice: short lines, one recipe, light imports, no stray warnings."
import json, re, subprocess, sys
from pathlib import Path
import pytest

root = Path(__file__).resolve().parent.parent
notebooks = sorted((root/'nbs').glob('*.ipynb'))
library = sorted(p for p in (root/'fastai_ls').glob('*.py') if p.name != '_modidx.py') # _modidx.py is nbdev's own index

def _code_cells(nb): return [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']

def test_lines_fit_130_characters():
    long = [f"{nb.name}: {len(l)}" for nb in notebooks for src in _code_cells(nb) for l in src.splitlines() if len(l) > 130]
    long += [f"{p.name}:{i}: {len(l)}" for p in library for i, l in enumerate(p.read_text().splitlines(), 1) if len(l) > 130]
    assert not long, f"lines over 130 characters: {long}"

def test_no_notebook_retypes_the_recipe():
    "The small CNN and the noisy DataLoaders are `small_cnn` and `noisy_dls`; a notebook that builds them by hand drifts from them."
    patterns = {'the CNN': re.compile(r'ConvLayer\(\s*1\s*,\s*16'), 'a noisy DataBlock': re.compile(r"get_y=ColReader\('noisy_label'\)")}
    found = {what: [nb.name for nb in notebooks for src in _code_cells(nb) if pat.search(src)] for what, pat in patterns.items()}
    assert len(found['the CNN']) <= 1 and found['the CNN'] in ([], ['05_learner.ipynb']), found # only small_cnn's own notebook
    # the DataBlock path is shown where it is documented (inject_noise_df, NoisyLabeller) and once with NoiseMonitor
    assert set(found['a noisy DataBlock']) <= {'01_noise.ipynb', '03_callbacks.ipynb'}, found

def _modules_after(stmt):
    code = f"import sys; {stmt}; print(' '.join(sorted(sys.modules)))"
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()

@pytest.mark.parametrize('module', ['fastai_ls.core', 'fastai_ls.noise', 'fastai_ls.data', 'fastai_ls.sweep'])
def test_light_modules_load_neither_torch_nor_fastai(module):
    "noise and data work on NumPy arrays; sweep imports torch and fastai only when a cell is trained, so its --help is quick."
    heavy = [m for m in _modules_after(f'import {module}') if m.split('.')[0] in ('torch', 'fastai')]
    assert not heavy, f"{module} loads {heavy[:5]}"

@pytest.mark.parametrize('module', ['losses', 'dataloaders', 'callbacks', 'calibration', 'mislabels', 'learner', 'all'])
def test_imports_print_no_warning(module):
    r = subprocess.run([sys.executable, '-c', f'import fastai_ls.{module}'], capture_output=True, text=True)
    assert r.returncode == 0 and 'Warning' not in r.stderr, r.stderr
