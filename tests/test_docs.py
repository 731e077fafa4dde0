"The documentation site: `bash .ci/docs` builds it offline from every notebook, and the browser check passes on it and fails on each planted problem."
import json, os, re, runpy, shutil, subprocess, sys, time
from pathlib import Path
import pytest

root = Path(__file__).resolve().parent.parent
check_site = runpy.run_path(str(root/'.ci'/'check_site.py'), run_name='check_site')
_git_status = lambda: subprocess.run(['git', 'status', '--porcelain'], cwd=root, capture_output=True, text=True, check=True).stdout

@pytest.fixture(scope='module')
def built():
    "Build the site once (what `bash .ci/docs` runs) and check it in the browser; return the manifest, problems, counts and seconds."
    before = _git_status()
    t0 = time.time()
    subprocess.run([sys.executable, root/'.ci'/'docs.py'], cwd=root, check=True, env={**os.environ, 'PYTHONUNBUFFERED': '1'})
    t1 = time.time()
    problems, counts = check_site['run']()
    t2 = time.time()
    summary = "site check: " + ', '.join(f"{v} {k}" for k, v in counts.items())
    (root/'_site'/'_shots'/'check.txt').write_text('\n'.join([summary, *problems, f"build {t1 - t0:.0f} s, check {t2 - t1:.0f} s"]) + '\n')
    return dict(manifest=json.loads((root/'_build'/'manifest.json').read_text()), problems=problems, counts=counts,
                build_s=t1 - t0, check_s=t2 - t1, git_before=before)

def test_site_passes_the_browser_check(built):
    assert not built['problems'], '\n'.join(built['problems'])
    c = built['counts']
    assert c['pages'] == len(list((root/'_site').glob('*.html'))) and c['names searched'] > 0 and c['images'] > 0
    assert c['screenshots'] >= 6 and len(list((root/'_site'/'_shots').glob('*.png'))) >= 6

def test_build_and_check_stay_under_3_minutes(built):
    assert built['build_s'] + built['check_s'] < 180, f"docs build {built['build_s']:.0f} s + browser check {built['check_s']:.0f} s"

def test_building_changes_no_tracked_file(built):
    assert _git_status() == built['git_before']

def _has_default_exp(nb):
    return any(re.search(r'^\s*#\|\s*default_exp\s', ''.join(c['source']), re.M)
               for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')

def test_every_notebook_and_markdown_file_is_a_page(built):
    by_source = {m['source']: m for m in built['manifest']}
    for nb in sorted((root/'nbs').glob('*.ipynb')):
        m = by_source.get(f"nbs/{nb.name}")
        assert m, f"{nb.name} has no page"
        want = 'index' if nb.stem == 'index' else 'api' if _has_default_exp(nb) else 'lesson' if re.match(r'1[0-9]_', nb.name) else 'notebook'
        assert m['kind'] == want, (nb.name, m['kind'])
        assert (root/'_site'/m['page']).is_file()
    for md in sorted((root/'nbs').glob('*.md')):
        assert f"nbs/{md.name}" in by_source, f"{md.name} has no page"
    results = by_source['nbs/results.md']
    assert results['images'] >= 1 and (root/'_site'/'results.html').is_file()

def _plant(site, page, html=None, drop=None):
    f = site/page
    text = f.read_text()
    if drop: text = re.sub(drop, '', text)
    if html: text = text.replace('</article>', html + '</article>', 1)
    f.write_text(text)

def test_check_fails_on_each_planted_problem(built, tmp_path):
    "Plant each problem the check must catch in a copy of the site, one per page, and check only those pages."
    site = tmp_path/'site'
    shutil.copytree(root/'_site', site)
    by_kind = lambda k: [m['page'] for m in built['manifest'] if m['kind'] == k]
    lessons = [m['page'] for m in built['manifest'] if m['kind'] == 'lesson' and m['images']]
    api = by_kind('api')
    git_url, branch = check_site['_settings']()
    plants = {
        lessons[0]: (dict(html=r'<p>planted: the smoothing is $\varepsilon$ here</p>'), 'raw TeX in the text'),
        lessons[1]: (dict(drop=r'<img [^>]*class="nb-output-img"[^>]*>'), 'lesson without its plots'),
        api[0]: (dict(html='<a href="no-such-page.html">planted</a>'), 'broken link'),
        api[1]: (dict(html=f'<a href="{api[0]}#no-such-anchor">planted</a>'), 'broken link'),
        api[2]: (dict(html='<pre><code>#| hide\nx = 1</code></pre>'), 'visible directive'),
        api[3]: (dict(html='<script>console.error("planted")</script>'), 'console error'),
        'index.html': (dict(html='<img src="no-such-image.png" alt="planted">'), 'image does not load'),
        'results.html': (dict(html='<img src="https://cdn.example.com/planted.png" alt="planted">'), 'request to another host'),
        api[4]: (dict(html=f'<a href="{git_url}/blob/{branch}/fastai_ls/no_such_module.py#L1">planted</a>'), 'repository link'),
    }
    for page, (how, _) in plants.items(): _plant(site, page, **how)
    problems, _ = check_site['run'](site=site, pages=list(plants), search=False, file_mode=False, shots=False)
    for page, (_, kind) in plants.items():
        assert any(p.startswith(f"{page}: {kind}: ") for p in problems), f"{page}: {kind} not caught; got {problems}"
