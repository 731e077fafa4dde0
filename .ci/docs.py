"""Build the documentation site in `_site/` from nbdev's processed notebooks, offline. `bash .ci/docs` runs it.

1. nbdev's notebook processors (the ones `nbdev_proc_nbs` runs before Quarto) turn every file under nbs/ into
   `_proc/`: hidden and exported cells go, `show_doc` cells are added and run, names in backticks become links.
2. Each processed notebook becomes a Markdown page in `_build/docs/`, its image outputs written beside it; the
   Markdown files of nbs/ (such as results.md) and nbs/images come along; MathJax is copied from its wheel.
3. MkDocs with Material builds `_site/` from `_build/mkdocs.yml`, which inherits `docs/mkdocs.yml` and adds the
   navigation: the index, the library modules (notebooks with `#| default_exp`), the lessons, the Markdown pages.

Nothing here lists the notebooks: every nbs/*.ipynb and nbs/*.md becomes a page. `_build/manifest.json` says what
each page is, for the browser check (`.ci/check_site.py`)."""
import base64, json, os, re, shutil, subprocess, sys, time, warnings
from pathlib import Path

root = Path(__file__).resolve().parent.parent
proc_dir, build_dir, site_dir = root/'_proc', root/'_build', root/'_site'
src_dir = build_dir/'docs'
_export_dirs = {'export', 'exports', 'exporti', 'exec_doc'}

def _process(src, dst):
    "Run nbdev's processors on one notebook, as `nbdev_proc_nbs` does; return the cells that could not run."
    os.environ['IN_TEST'] = '1'
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults, exec_show_docs, _is_showdoc
    skipped = []
    class exec_show_docs_(exec_show_docs):
        # nbdev runs every cell that imports something, so that `show_doc` finds the names; a cell that mixes imports
        # with code needing earlier, unrun cells fails. Such a cell is reported and skipped; a failing export or
        # show_doc cell still stops the build.
        def __call__(self, cell):
            try: super().__call__(cell)
            except Exception as e:
                if _is_showdoc(cell) or cell.directives_.keys() & _export_dirs: raise
                cause = e.__cause__ or e
                skipped.append(f"{Path(src).name} cell {cell.idx_}: {type(cause).__name__}: {cause}")
                self.k.exc = None
    class Procs(FilterDefaults):
        def base_procs(self): return [exec_show_docs_ if p is exec_show_docs else p for p in super().base_procs()]
    nb = read_nb(src)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # nbdev's "Found cells containing imports and other code": reported above if it matters
        Procs()(nb)
    write_nb(nb, dst)
    return skipped

def process_notebooks(nbs, n_workers=2):
    "Write `_proc/` from nbs/: notebooks through nbdev's processors (in `n_workers` processes), every other file copied."
    shutil.rmtree(proc_dir, ignore_errors=True)
    jobs = []
    for f in sorted(nbs.rglob('*')):
        rel = f.relative_to(nbs)
        if not f.is_file() or any(p.startswith(('.', '_')) for p in rel.parts): continue
        (proc_dir/rel).parent.mkdir(parents=True, exist_ok=True)
        if f.suffix == '.ipynb': jobs.append((str(f), str(proc_dir/rel)))
        else: shutil.copy2(f, proc_dir/rel)
    # each worker is one interpreter that processes its share in turn, largest notebooks first
    jobs.sort(key=lambda j: -Path(j[0]).stat().st_size)
    shares = [jobs[i::n_workers] for i in range(n_workers) if jobs[i::n_workers]]
    workers = [subprocess.Popen([sys.executable, __file__, '--proc', json.dumps(s)], cwd=root) for s in shares]
    if any([w.wait() for w in workers]): sys.exit("docs: nbdev's processing of a notebook failed (see above)")
    return sorted(Path(dst) for _, dst in jobs)

def _proc_worker(share):
    for src, dst in share:
        for s in _process(src, dst): print(f"docs: skipped a cell while rendering {s}", file=sys.stderr)

# ---- processed notebook -> Markdown page ----

_re_ansi = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')
_re_directive = re.compile(r'^\s*#\|\s?(.*)$')

def _text(x): return ''.join(x) if isinstance(x, list) else (x or '')

def _directives(src):
    "Quarto/nbdev directives (`#| key: value`) of a code cell, and its source without them."
    d, keep = {}, []
    for l in src.splitlines():
        m = _re_directive.match(l)
        if m:
            k, _, v = m.group(1).partition(':')
            d[k.strip()] = v.strip().strip('"\'')
        else: keep.append(l)
    return d, '\n'.join(keep).strip('\n')

def _plain(t):
    "Terminal text as it last looked: no ANSI colours, and only what follows the last carriage return on each line."
    t = _re_ansi.sub('', t)
    return '\n'.join(l.rsplit('\r', 1)[-1] for l in t.split('\n'))

def _n_images(md):
    "How many local images Markdown text shows."
    return len(re.findall(r'!\[[^\]]*\]\((?!https?:)[^)]+\)|<img\s', md))

def _fence(text, cls='nb-output'):
    ticks = '````' if '```' in text else '```'
    return f"{ticks} {{.text .{cls}}}\n{text.rstrip()}\n{ticks}"

def _links(md, cfg, pages, html=False):
    "Links to this site's pages become relative (checked by MkDocs and the browser); links to notebooks go to their pages."
    base = re.escape(cfg['doc_host'].rstrip('/') + '/' + cfg['doc_baseurl'].strip('/')) + '/'
    md = re.sub(base + r'([\w.-]+)\.html', (r'\1.html' if html else r'\1.md'), md)
    def nb_link(m):
        page = pages.get(m.group(2))
        if page and html: page = Path(page).with_suffix('.html').name
        return f"{m.group(1)}{page}" if page else m.group(0)
    return re.sub(r'(\]\(|href=")(?:\./)?([\w.-]+)\.ipynb', nb_link, md)

class Page:
    "One processed notebook, rendered to Markdown."
    def __init__(self, proc_nb, cfg, pages):
        self.path, self.cfg, self.pages = Path(proc_nb), cfg, pages
        self.nb = json.loads(self.path.read_text())
        self.src_nb = root/'nbs'/self.path.relative_to(proc_dir)
        fm = self._frontmatter()
        self.title = fm.get('title') or self.path.stem
        self.description = fm.get('description', '')
        # nbdev names a page after the notebook without its number; a lesson keeps its number, so that lesson
        # 12_calibration does not overwrite the page of module 04_calibration
        out = self.path.stem if _kind(self.src_nb) == 'lesson' else fm.get('output-file') or self.path.stem
        self.out = Path(out).with_suffix('.md').name
        self.n_images, self.doc_ids = 0, set()

    def _frontmatter(self):
        import yaml
        for c in self.nb['cells']:
            s = _text(c.get('source')).strip()
            if c['cell_type'] == 'raw' and s.startswith('---'): return yaml.safe_load(s.strip('-\n')) or {}
        return {}

    def links(self, md, html=False): return _links(md, self.cfg, self.pages, html)

    def _image(self, data, mime):
        ext = {'image/png': 'png', 'image/jpeg': 'jpg', 'image/svg+xml': 'svg', 'image/gif': 'gif'}[mime]
        name = f"{Path(self.out).stem}_files/out_{self.n_images}.{ext}"
        (src_dir/name).parent.mkdir(parents=True, exist_ok=True)
        if ext == 'svg': (src_dir/name).write_text(_text(data))
        else: (src_dir/name).write_bytes(base64.b64decode(_text(data)))
        self.n_images += 1
        return f"![output {self.n_images}]({name}){{.nb-output-img}}"

    def show_doc(self, md):
        "nbdev's show_doc Markdown, with nbdev's anchors and a link to the notebook beside the one to the source."
        nb_url = f"{self.cfg['git_url']}/blob/{self.cfg['branch']}/{self.src_nb.relative_to(root).as_posix()}"
        def src(m): return f'<span class="nb-links">[notebook]({nb_url}) · [source]({m.group(1)})</span>'
        md = re.sub(r'\[source\]\((\S+?)\)(\{[^}]*\})?', src, md)
        def heading(m):
            self.doc_ids.add(m.group(2).lower())
            return f"{m.group(1)} {m.group(2)} {{#{m.group(2).lower()} .nb-doc}}"
        return re.sub(r'^(#{2,4}) (\S+)\s*$', heading, md, flags=re.M)

    def outputs(self, outs, asis):
        parts, stream = [], []
        def flush():
            if stream: parts.append(_fence(_plain(''.join(stream))))
            stream.clear()
        for o in outs:
            t = o['output_type']
            if t == 'stream':
                if _plain(_text(o.get('text'))).strip(): stream.append(_text(o.get('text')))
                continue
            flush()
            if t == 'error':
                parts.append(_fence(_plain('\n'.join(o.get('traceback', []))), 'nb-error')); continue
            data = o.get('data', {})
            img = next((m for m in ('image/png', 'image/svg+xml', 'image/jpeg', 'image/gif') if m in data), None)
            if img: parts.append(self._image(data[img], img))
            elif 'text/markdown' in data:
                md = self.links(_text(data['text/markdown']))
                parts.append(self.show_doc(md) if asis else md)
            elif 'text/html' in data:
                html = '\n'.join(l for l in _text(data['text/html']).splitlines() if l.strip())
                parts.append(f'<div class="nb-output nb-html" markdown="0">\n{self.links(html, html=True)}\n</div>')
            elif 'text/latex' in data: parts.append(_text(data['text/latex']))
            elif 'text/plain' in data: parts.append(_fence(_plain(_text(data['text/plain']))))
        flush()
        return parts

    def markdown(self, cell):
        src = _text(cell.get('source'))
        if src.strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): return []
        n = self.n_images
        for name, d in (cell.get('attachments') or {}).items():
            mime = next(iter(d))
            link = self._image(d[mime], mime)
            src = src.replace(f'attachment:{name}', re.search(r'\((.*)\)', link).group(1))
        self.n_images = n + _n_images(src)
        return [self.links(src)]

    def code(self, cell):
        d, code = _directives(_text(cell.get('source')))
        if d.get('include') == 'false': return []
        parts = []
        if code and d.get('echo') != 'false':
            fence = f"```python\n{code}\n```"
            if 'code-fold' in d:
                summary = d.get('code-summary') or 'Code'
                indented = '\n'.join(('    ' + l) if l else l for l in fence.splitlines())
                fence = f'???{"+" if d["code-fold"] == "show" else ""} nb-exported "{summary}"\n{indented}'
            parts.append(fence)
        if d.get('output') != 'false': parts += self.outputs(cell.get('outputs', []), d.get('output') == 'asis')
        return parts

    def render(self):
        parts = [f"---\ntitle: {json.dumps(self.title)}\n---", f"# {self.title}"]
        if self.description: parts.append(f"{self.links(self.description)}\n{{: .nb-lead}}")
        for self._cell, cell in enumerate(self.nb['cells']):
            if 'source' not in cell: continue
            if cell['cell_type'] == 'markdown': parts += self.markdown(cell)
            elif cell['cell_type'] == 'code': parts += self.code(cell)
        (src_dir/self.out).write_text('\n\n'.join(parts) + '\n')

def _method_links(pages):
    "A link to a method without an entry of its own goes to its class's entry; to another name without one, to its page."
    ids = {Path(p.out).name: p.doc_ids for p in pages}
    def fix(m):
        page, anchor = m.group(1), m.group(2)
        if page not in ids or anchor in ids[page]: return m.group(0)
        cls = anchor.rsplit('.', 1)[0]
        return f"]({page}#{cls})" if cls in ids[page] else f"]({page})"
    for p in pages:
        f = src_dir/p.out
        f.write_text(re.sub(r'\]\(([\w.-]+\.md)#([\w.-]+)\)', fix, f.read_text()))

def _kind(nb):
    "index, api (a library module: the notebook has `#| default_exp`), lesson (nbs/1[0-9]_*.ipynb), or notebook."
    if nb.stem == 'index': return 'index'
    cells = json.loads(nb.read_text())['cells']
    if any(re.search(r'^\s*#\|\s*default_exp\s', _text(c['source']), re.M) for c in cells if c['cell_type'] == 'code'): return 'api'
    return 'lesson' if re.match(r'1[0-9]_', nb.name) else 'notebook'

def _md_title(text, default):
    m = re.search(r'^#\s+(.+)$', text, re.M)
    return m.group(1).strip() if m else default

def build_sources(procs, cfg):
    "Write `_build/docs/` (Markdown pages, images, MathJax, assets) and return the manifest of the pages."
    shutil.rmtree(build_dir, ignore_errors=True)
    src_dir.mkdir(parents=True)
    nb_pages = {p.stem: Path(Page(p, cfg, {}).out).with_suffix('.md').name for p in procs}
    same = [v for v in set(nb_pages.values()) if list(nb_pages.values()).count(v) > 1]
    if same: sys.exit(f"docs: two notebooks would write the same page: {same}; give one an output-file")
    manifest, rendered = [], []
    for p in procs:
        page = Page(p, cfg, nb_pages)
        page.render()
        rendered.append(page)
        manifest.append(dict(page=Path(page.out).with_suffix('.html').name, md=page.out, title=page.title,
                             kind=_kind(page.src_nb), source=page.src_nb.relative_to(root).as_posix(), images=page.n_images))
    _method_links(rendered)
    # the other files of nbs/: Markdown pages (images resolve as they do on GitHub) and whatever they link to
    for f in sorted(proc_dir.rglob('*')):
        rel = f.relative_to(proc_dir)
        if not f.is_file() or f.suffix == '.ipynb': continue
        (src_dir/rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, src_dir/rel)
        if f.suffix == '.md' and len(rel.parts) == 1:
            text = _links(f.read_text(), cfg, nb_pages)
            (src_dir/rel).write_text(text)
            manifest.append(dict(page=rel.with_suffix('.html').as_posix(), md=rel.as_posix(), title=_md_title(text, f.stem),
                                 kind='page', source=f"nbs/{rel.as_posix()}", images=_n_images(text)))
    # MathJax 3, from the django-static-mathjax wheel: the combined TeX-to-HTML component, its fonts, its extensions
    import mathjax
    mj = Path(mathjax.__file__).parent/'static'/'mathjax'/'es5'
    for rel in ['tex-chtml.js', 'output/chtml/fonts/woff-v2', 'input/tex/extensions', 'ui', 'a11y']:
        (src_dir/'assets'/'mathjax'/rel).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (mj/rel).is_dir() else shutil.copy2)(mj/rel, src_dir/'assets'/'mathjax'/rel)
    shutil.copytree(root/'docs'/'assets', src_dir/'assets', dirs_exist_ok=True)
    return manifest

def _nav(manifest):
    by = lambda k: [{m['title']: m['md']} for m in manifest if m['kind'] == k]
    nav = [{'Home': m['md']} for m in manifest if m['kind'] == 'index']
    for name, kind in [('Library', 'api'), ('Lessons', 'lesson'), ('Notebooks', 'notebook')]:
        if by(kind): nav.append({name: by(kind)})
    return nav + by('page')

def main():
    from nbdev.config import get_config
    cfg = get_config()
    t0 = time.time()
    # --reuse-proc: keep _proc/ from the last build (quicker while working on the site itself)
    if '--reuse-proc' in sys.argv and proc_dir.is_dir(): procs = sorted(proc_dir.rglob('*.ipynb'))
    else: procs = process_notebooks(root/'nbs')
    t1 = time.time()
    manifest = build_sources(procs, cfg)
    import yaml
    (build_dir/'mkdocs.yml').write_text(yaml.safe_dump(
        {'INHERIT': '../docs/mkdocs.yml', 'docs_dir': 'docs', 'site_dir': '../_site', 'nav': _nav(manifest)}, sort_keys=False))
    (build_dir/'manifest.json').write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(site_dir, ignore_errors=True)
    r = subprocess.run([Path(sys.executable).parent/'mkdocs', 'build', '-f', str(build_dir/'mkdocs.yml')], cwd=root, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'})
    for l in r.stdout.splitlines():
        if l.strip() and not l.startswith('INFO'): print(f"mkdocs: {l}", file=sys.stderr)
    if r.returncode: sys.exit(f"docs: mkdocs build failed ({r.returncode})")
    kinds = {k: sum(m['kind'] == k for m in manifest) for k in ('index', 'api', 'lesson', 'notebook', 'page')}
    print(f"docs: {len(manifest)} pages ({', '.join(f'{v} {k}' for k, v in kinds.items() if v)}) in _site/: "
          f"notebooks processed in {t1 - t0:.0f} s, site built in {time.time() - t1:.0f} s; open _site/index.html")

if __name__ == '__main__':
    if sys.argv[1:2] == ['--proc']: _proc_worker(json.loads(sys.argv[2]))
    else: main()
