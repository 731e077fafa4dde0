"""Write README.md from nbs/index.ipynb without Quarto (which these machines cannot install).

Markdown cells are copied; code cells become fenced Python with their text outputs below them;
cells marked `#| hide` are left out and `#|` directives are dropped. `python .ci/make_readme.py` rewrites
README.md; `tests/test_packaging.py` fails when README.md and the notebook drift apart."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def _directives(src): return [l for l in src.splitlines() if l.startswith('#|')]

def _output_text(o):
    if o['output_type'] == 'stream': return ''.join(o['text'])
    return ''.join(o.get('data', {}).get('text/markdown') or o.get('data', {}).get('text/plain') or '')

def readme_text(nb_path=root/'nbs'/'index.ipynb'):
    "The README.md that `nb_path` gives."
    parts = []
    for cell in json.loads(Path(nb_path).read_text())['cells']:
        src = ''.join(cell['source'])
        if any(d.replace(' ', '') in ('#|hide', '#|exporti', '#|export') for d in _directives(src)): continue
        if cell['cell_type'] == 'markdown': parts.append(src.strip().replace('](images/', '](nbs/images/')); continue
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
        if code: parts.append(f"``` python\n{code}\n```")
        for o in cell.get('outputs', []):
            text = _output_text(o).rstrip()
            if not text: continue
            is_md = 'text/markdown' in o.get('data', {})
            parts.append(text if is_md else f"```\n{text}\n```")
    return "<!-- Generated from nbs/index.ipynb by .ci/make_readme.py: edit the notebook, not this file. -->\n\n" + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    (root/'README.md').write_text(readme_text())
    print("wrote README.md", file=sys.stderr)
