"The README's main job, run inside a clean clone with its default output folder, leaves `git status` clean."
import os, shutil, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
bin_dir = Path(sys.executable).parent

def _git(*args, cwd):
    return subprocess.run(['git', '-c', 'user.name=test', '-c', 'user.email=test@example.com', *args],
                          cwd=cwd, capture_output=True, text=True, check=True).stdout

def _clean_clone(dest):
    "The files git tracks (as the working tree has them, .gitignore included), committed in a new repository at `dest`."
    for f in filter(None, _git('ls-files', '-z', cwd=root).split('\0')):
        if (root/f).is_file():
            (dest/f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root/f, dest/f)
    _git('init', '-q', cwd=dest); _git('add', '-A', cwd=dest); _git('commit', '-q', '-m', 'clean clone', cwd=dest)
    assert _git('status', '--porcelain', cwd=dest) == ''

def test_main_job_with_default_out_leaves_the_clone_clean(tmp_path):
    clone = tmp_path/'clone'
    _clean_clone(clone)
    cmd = [bin_dir/'fastai_ls_sweep', '--dataset', 'digits', '--rates', '0', '--eps', '0', '--seeds', '0', '--epochs', '1', '--n_per_class', '20', '--bs', '32']
    r = subprocess.run(cmd, cwd=clone, capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (clone/'sweep_results'/'results.csv').is_file(), "the job wrote no results in its default folder"
    status = _git('status', '--porcelain', '--untracked-files=all', cwd=clone)
    assert status == '', f"the main job left these files in the clone (add its output folder to .gitignore):\n{status}"

def test_hygiene_check_tells_changed_from_untracked(tmp_path):
    "`.ci/check_clean` (run by .ci/run) lists changed tracked files and untracked ones under their own headings."
    repo = tmp_path/'repo'; repo.mkdir()
    (repo/'tracked.txt').write_text('a\n'); (repo/'.gitignore').write_text('ignored/\n')
    _git('init', '-q', cwd=repo); _git('add', '-A', cwd=repo); _git('commit', '-q', '-m', 'start', cwd=repo)
    check = lambda: subprocess.run(['bash', root/'.ci'/'check_clean', 'the step'], cwd=repo, capture_output=True, text=True)
    (repo/'ignored').mkdir(); (repo/'ignored'/'out.csv').write_text('x\n')
    assert check().returncode == 0, "ignored files are not a problem"
    (repo/'new_dir').mkdir(); (repo/'new_dir'/'results.csv').write_text('x\n')
    r = check()
    assert r.returncode == 1 and 'Untracked files' in r.stdout and 'new_dir/results.csv' in r.stdout and 'Changed tracked' not in r.stdout
    (repo/'tracked.txt').write_text('b\n')
    r = check()
    changed, untracked = r.stdout.split('Untracked files')
    assert r.returncode == 1 and 'Changed tracked files, after the step' in changed and 'tracked.txt' in changed
    assert 'new_dir/results.csv' in untracked and 'tracked.txt' not in untracked
