"""Open every page of the built site (`_site/`, from `bash .ci/docs`) in headless Chromium and report what a reader
would see go wrong:

- a console error, or a page script error;
- a request to a host other than the page's own (it is blocked before it leaves the browser);
- an internal link that does not resolve, to a file or to an anchor in it;
- a link into the repository (notebook or source) that names a file or line the repository does not have;
- an image that does not load (`naturalWidth` 0);
- raw TeX in the rendered text (`$...$`, `\\varepsilon`), or math that MathJax did not typeset;
- a visible `#| ` directive;
- a lesson page that shows fewer plots than its notebook has;
- a public name of the library that the site's search does not find.

It also opens the site from `file://` (the index, a lesson and a search), and saves screenshots of the index, one API
page and one lesson page, at desktop and phone widths, in `_site/_shots/`, with a summary in `_site/_shots/check.txt`.

`python .ci/check_site.py` checks `_site/` and exits 1 on any problem. Chromium is Debian's `/usr/bin/chromium`
(or `$CHROMIUM`), driven by Playwright; it never downloads a browser of its own."""
import argparse, configparser, http.server, json, os, re, sys, threading, time
from collections import Counter
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

root = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions',
                 # no name resolves but the loopback: nothing can leave the machine even past the request filter
                 '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']
DESKTOP, PHONE = dict(width=1280, height=800), dict(width=390, height=844)

_collect = """() => {
  const content = document.querySelector('.md-content') || document.body;
  const prose = content.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, mjx-container, .nb-html').forEach(e => e.remove());
  const imgs = [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0,
                                               content: content.contains(i)}));
  return {
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    images: imgs,
    prose: prose.textContent,
    blocks: [...content.querySelectorAll('pre')].map(e => e.textContent),
    arithmatex: content.querySelectorAll('.arithmatex').length,
    typeset: content.querySelectorAll('.arithmatex mjx-container').length,
    merror: content.querySelectorAll('mjx-merror').length,
    doc_entries: content.querySelectorAll('.nb-doc').length,
  };
}"""
_re_raw_math = re.compile(r'\$[^\s$](?:[^$\n]*?[^\s$])?\$|\\(?:varepsilon|epsilon|frac|text|sum|cdot|log|exp|mathrm|operatorname|left|right|sqrt|hat|mathbb|alpha|beta|lambda|sigma)\b')
_re_directive = re.compile(r'#\|\s*[\w-]+')
_re_directive_line = re.compile(r'^\s*#\|\s*[\w-]+')
_re_ids = re.compile(r'\b(?:id|name)="([^"]+)"')

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address): pass  # a browser that drops a connection is not a problem of the site

def serve(site):
    "Serve `site` on a free loopback port; return the server and its base URL."
    srv = _Server(('127.0.0.1', 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"

def _settings():
    cfg = configparser.ConfigParser(); cfg.read(root/'settings.ini')
    d = cfg['DEFAULT']
    return d['git_url'].replace('%(user)s', d['user']).replace('%(repo)s', d['repo']), d['branch']

def public_names():
    "Every public name of the library (each module's `__all__`), with the page and anchor that nbdev's index gives it."
    import ast, runpy
    modidx = runpy.run_path(str(root/'fastai_ls'/'_modidx.py'))['d']['syms']
    names = {}
    for mod, syms in modidx.items():
        f = root/(mod.replace('.', '/') + '.py')
        if mod.endswith('.all') or not f.is_file(): continue
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in node.targets):
                for nm in ast.literal_eval(node.value):
                    if f"{mod}.{nm}" in syms: names[nm] = syms[f"{mod}.{nm}"][0]
    return names

class Checker:
    def __init__(self, site, manifest, repo=root):
        self.site, self.repo = Path(site), Path(repo)
        self.manifest = {m['page']: m for m in json.loads(Path(manifest).read_text())}
        self.git_url, self.branch = _settings()
        self.problems, self.counts, self._ids = [], Counter(), {}
        self.links, self.ext_links = set(), set()

    def problem(self, page, kind, detail): self.problems.append(f"{page}: {kind}: {detail}")

    def watch(self, context, own):
        "Block and report every request that is not to `own` (a scheme://host prefix, or 'file')."
        def route(r):
            u = urlparse(r.request.url)
            if u.scheme in ('data', 'blob', 'about') or (own == 'file' and u.scheme == 'file') or r.request.url.startswith(own):
                self.counts['requests'] += 1
                return r.continue_()
            self.problem(self._page, 'request to another host', r.request.url)
            r.abort()
        context.route('**/*', route)

    def attach(self, page):
        page.on('console', lambda m: m.type == 'error' and self.problem(self._page, 'console error', m.text))
        page.on('pageerror', lambda e: self.problem(self._page, 'script error', str(e)))
        page.on('response', lambda r: r.status >= 400 and self.problem(self._page, f'HTTP {r.status}', r.url))

    def visit(self, page, url, name):
        self._page = name
        page.goto(url, wait_until='load')
        page.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise; }")
        return page.evaluate(_collect)

    def ids(self, path):
        if path not in self._ids:
            self._ids[path] = set(_re_ids.findall(path.read_text(errors='replace'))) if path.suffix == '.html' else set()
        return self._ids[path]

    def check_link(self, name, href, base):
        url, frag = urldefrag(href)
        if href.startswith(base):
            rel = unquote(urlparse(url).path)[len(urlparse(base).path):] or 'index.html'
            target = self.site/rel
            if rel.endswith('/'): target = target/'index.html'
            self.links.add(href); self.counts['internal links'] += 1
            if not target.is_file(): return self.problem(name, 'broken link', f"{href} (no file {rel})")
            if frag and target.suffix == '.html' and unquote(frag) not in self.ids(target):
                self.problem(name, 'broken link', f"{href} (no anchor #{frag} in {rel})")
        elif href.startswith(('http://', 'https://')):
            self.ext_links.add(href); self.counts['external links'] += 1
            prefix = f"{self.git_url}/blob/{self.branch}/"
            if href.startswith(prefix):
                self.counts['repository links'] += 1
                path = self.repo/unquote(url[len(prefix):])
                if not path.is_file(): return self.problem(name, 'repository link', f"{href} (no file {path.relative_to(self.repo)})")
                m = re.fullmatch(r'L(\d+)', frag or '')
                if m and int(m.group(1)) > len(path.read_text().splitlines()):
                    self.problem(name, 'repository link', f"{href} (the file has fewer lines)")

    def check_page(self, name, info, base):
        m = self.manifest.get(name, {})
        for href in info['links']: self.check_link(name, href, base)
        for img in info['images']:
            self.counts['images'] += 1
            if not img['ok']: self.problem(name, 'image does not load', img['src'])
        for raw in _re_raw_math.findall(info['prose']): self.problem(name, 'raw TeX in the text', raw)
        if info['typeset'] < info['arithmatex']: self.problem(name, 'math not typeset', f"{info['arithmatex'] - info['typeset']} of {info['arithmatex']}")
        if info['merror']: self.problem(name, 'MathJax error', f"{info['merror']} formulas")
        self.counts['formulas'] += info['typeset']
        # a directive line in a code block, or one in the prose (inline code that names a directive is fine)
        found = [l.strip() for b in info['blocks'] for l in b.splitlines() if _re_directive_line.match(l)]
        for d in sorted(set(found + _re_directive.findall(info['prose']))): self.problem(name, 'visible directive', d)
        shown = sum(i['ok'] and i['content'] for i in info['images'])
        if m.get('kind') == 'lesson' and shown < m.get('images', 0):
            self.problem(name, 'lesson without its plots', f"shows {shown} of the {m['images']} images in {m['source']}")

    def search(self, page, url, names, name='search'):
        "Type each name into the site's search on page `url`; the results must link to its entry."
        self._page = name
        page.set_viewport_size(DESKTOP)
        page.goto(url, wait_until='load')
        page.locator('input.md-search__input').click()
        try: page.wait_for_function("() => !/Initializing/i.test(document.querySelector('.md-search-result__meta')?.textContent || 'Initializing')", timeout=15000)
        except Exception: return self.problem(name, 'search does not start', url)
        for nm, link in names.items():
            self.counts['names searched'] += 1
            box = page.locator('input.md-search__input')
            box.fill(nm); box.press('End')
            want = link.split('#')[-1].lower()
            try:
                page.wait_for_function("""([want]) => [...document.querySelectorAll('.md-search-result__list a')]
                    .some(a => decodeURIComponent(a.hash.slice(1)).toLowerCase() === want)""", arg=[want], timeout=5000)
            except Exception:
                hits = page.eval_on_selector_all('.md-search-result__list a', 'as => as.slice(0, 5).map(a => a.getAttribute("href"))')
                self.problem(name, 'search does not find a public name', f"{nm} (wanted #{want}; got {hits})")

    def shots(self, page, url, slug, scroll_to=None):
        out = self.site/'_shots'
        out.mkdir(exist_ok=True)
        for width, vp in [('desktop', DESKTOP), ('phone', PHONE)]:
            page.set_viewport_size(vp)
            page.goto(url, wait_until='load')
            page.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise; }")
            page.screenshot(path=str(out/f"{slug}-{width}.png"))
            if scroll_to and page.locator(scroll_to).count():
                page.locator(scroll_to).first.scroll_into_view_if_needed()
                page.evaluate("() => window.scrollBy(0, -80)")
                page.wait_for_timeout(500)  # the header's title changes with an animation on scrolling
                page.screenshot(path=str(out/f"{slug}-{width}-detail.png"))
            self.counts['screenshots'] += 1 + bool(scroll_to and page.locator(scroll_to).count())

def run(site=root/'_site', manifest=root/'_build'/'manifest.json', pages=None, search=True, file_mode=True, shots=True,
        executable=None):
    "Check `site` (all pages, or only `pages`); return the list of problems and the counts."
    from playwright.sync_api import sync_playwright
    site = Path(site)
    ck = Checker(site, manifest)
    pages = pages or sorted(p.name for p in site.glob('*.html'))
    srv, base = serve(site)
    t0 = time.time()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable or os.environ.get('CHROMIUM', '/usr/bin/chromium'), args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport=DESKTOP)
            ck.watch(ctx, base)
            page = ctx.new_page(); ck.attach(page)
            infos = {}
            for name in pages:
                infos[name] = info = ck.visit(page, base + name, name)
                ck.check_page(name, info, base)
                ck.counts['pages'] += 1
            start = 'index.html' if 'index.html' in pages else pages[0]
            if search: ck.search(page, base + start, public_names())
            if shots:
                # the first page of its kind in the site's order that shows what the shot is for
                pick = lambda kind, key: next((n for n, m in ck.manifest.items() if m['kind'] == kind and n in infos and infos[n][key]), None)
                for slug, name, detail in [('index', 'index.html' if 'index.html' in infos else None, None),
                                           ('api', pick('api', 'doc_entries'), 'h3.nb-doc'),
                                           ('lesson', pick('lesson', 'typeset'), 'img.nb-output-img')]:
                    if name: ck._page = name; ck.shots(page, base + name, slug, detail)
            ctx.close()
            if file_mode:  # the same site from the file system, as a downloaded copy is read
                fctx = browser.new_context(viewport=DESKTOP)
                ck.watch(fctx, 'file')
                fpage = fctx.new_page(); ck.attach(fpage)
                lesson = next((n for n in pages if ck.manifest.get(n, {}).get('kind') == 'lesson'), None)
                for name in filter(None, ['index.html' if 'index.html' in pages else None, lesson]):
                    info = ck.visit(fpage, (site/name).resolve().as_uri(), f"{name} (file://)")
                    bad = [i['src'] for i in info['images'] if not i['ok']]
                    if bad: ck.problem(f"{name} (file://)", 'image does not load', bad[0])
                    if info['typeset'] < info['arithmatex']: ck.problem(f"{name} (file://)", 'math not typeset', '')
                    ck.counts['pages from file://'] += 1
                if search: ck.search(fpage, (site/start).resolve().as_uri(), dict(list(public_names().items())[:3]), 'search (file://)')
                fctx.close()
            browser.close()
    finally:
        srv.shutdown()
    ck.counts['unique internal links'] = len(ck.links)
    ck.counts['unique external links'] = len(ck.ext_links)
    ck.counts['seconds'] = round(time.time() - t0)
    order = ['pages', 'pages from file://', 'internal links', 'unique internal links', 'external links', 'unique external links',
             'repository links', 'images', 'formulas', 'requests', 'names searched', 'screenshots', 'seconds']
    return ck.problems, {k: ck.counts[k] for k in order + sorted(set(ck.counts) - set(order))}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--site', default=str(root/'_site'))
    p.add_argument('--manifest', default=str(root/'_build'/'manifest.json'))
    p.add_argument('--pages', nargs='*', help='only these pages (file names in the site)')
    a = p.parse_args()
    problems, counts = run(a.site, a.manifest, a.pages)
    summary = "site check: " + ', '.join(f"{v} {k}" for k, v in counts.items())
    lines = [summary] + [f"  {x}" for x in problems] + [f"{len(problems)} problems" if problems else "no problems"]
    (Path(a.site)/'_shots').mkdir(exist_ok=True)
    (Path(a.site)/'_shots'/'check.txt').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    sys.exit(1 if problems else 0)

if __name__ == '__main__': main()
