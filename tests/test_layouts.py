"""The field's dataset layouts and label files (issue 22), on fixtures written here in each exact layout.

The quick cases, with examples, are in nbs/02_data.ipynb."""
import os, pickle, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd
import pytest
from PIL import Image
from fastai_ls.data import (ImageArrays, LAYOUTS, NOISY_IMAGENETTE_COLS, cifar_arrays, folder_arrays, folder_layout,
                            image_arrays, noisy_imagenette_arrays, read_noisy_labels)

def tree(root):
    "Every path under `root`, relative, except the documented cache."
    return sorted(str(p.relative_to(root)) for p in root.rglob('*') if '.fastai_ls_cache' not in p.parts)

# fastai's CIFAR-10 and CIFAR-100 as PNG folders

CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']

def write_png_folder(root, n_train=3, n_test=1, nested=False, seed=0):
    "fastai's layout, train/<class>/ and test/<class>/ (or <superclass>/<class>/): 32×32 RGB PNGs; {path: pixels}."
    rng, written = np.random.default_rng(seed), {}
    classes = [('vehicles', c) if c in ('automobile', 'truck', 'ship', 'airplane') else ('animals', c) for c in CIFAR10]
    for split, n in (('train', n_train), ('test', n_test)):
        for sup, c in classes:
            for i in range(n):
                rel = Path(split, *([sup] if nested else []), c, f'{i}_{c}.png')
                (root/rel).parent.mkdir(parents=True, exist_ok=True)
                written[str(rel)] = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(written[str(rel)]).save(root/rel)
    return written

def test_fastai_cifar10_png_folders(tmp_path):
    root = tmp_path/'cifar10'
    written = write_png_folder(root)
    before = tree(root)
    data = image_arrays(root)
    assert folder_layout(root) == 'image_folders' and data.vocab == CIFAR10 # sorted: torchvision's order for CIFAR-10
    for split, x, y in (('train', data.x_train, data.y_train), ('test', data.x_valid, data.y_valid)):
        files = sorted(k for k in written if k.startswith(split + '/'))
        np.testing.assert_array_equal(x, np.stack([written[f].transpose(2, 0, 1) for f in files]))
        np.testing.assert_array_equal(y, [CIFAR10.index(Path(f).parent.name) for f in files])
    assert (data.x_train.shape, data.x_valid.shape) == ((30, 3, 32, 32), (10, 3, 32, 32))
    assert tree(root) == before and len(list((root/'.fastai_ls_cache').glob('*.npy'))) == 2 # nothing else written
    caches = {p: p.stat().st_mtime_ns for p in (root/'.fastai_ls_cache').glob('*.npy')}
    np.testing.assert_array_equal(image_arrays(root, n_per_class=2).y_train, np.repeat(np.arange(10), 2))
    after = {p: p.stat().st_mtime_ns for p in (root/'.fastai_ls_cache').glob('*.npy')}
    assert after == caches # read, not decoded again

def test_cifar100_png_folders_with_superclasses(tmp_path):
    root = tmp_path/'cifar100'
    written = write_png_folder(root, n_train=2, nested=True)
    fine, coarse = image_arrays(root), image_arrays(root, labels='coarse')
    files = sorted(k for k in written if k.startswith('train/'))
    assert [fine.vocab[i] for i in fine.y_train] == [Path(f).parent.name for f in files]
    assert [coarse.vocab[i] for i in coarse.y_train] == [Path(f).parent.parent.name for f in files]
    assert (fine.c, coarse.c) == (10, 2)
    np.testing.assert_array_equal(fine.x_valid, coarse.x_valid)

def test_missing_split_folder(tmp_path):
    write_png_folder(tmp_path/'cifar10')
    for f in (tmp_path/'cifar10'/'test').rglob('*.png'): f.unlink()
    with pytest.raises(ValueError, match="holds no images under test/<class>/"): folder_arrays(tmp_path/'cifar10')
    (tmp_path/'cifar10'/'test').rename(tmp_path/'elsewhere')
    with pytest.raises(ValueError) as e: image_arrays(tmp_path/'cifar10')
    assert str(tmp_path/'cifar10') in str(e.value) and 'it has train/' in str(e.value)
    assert all(layout in str(e.value) for layout in LAYOUTS.values())

# torchvision's pickled batches

def write_batches(root, k=10, n=4, seed=0, str_keys=False, protocol=2):
    "torchvision's CIFAR-`k` folder under `root`, `n` images per batch, with the original keys and dtypes."
    rng, key = np.random.default_rng(seed), (lambda s: s if str_keys else s.encode())
    folder = root/('cifar-10-batches-py' if k == 10 else 'cifar-100-python')
    folder.mkdir(parents=True)
    files = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch'] if k == 10 else ['train', 'test']
    written = {}
    for name in files:
        m = n * (5 if k == 100 and name == 'train' else 1)
        b = {key('data'): rng.integers(0, 256, (m, 3072), dtype=np.uint8), key('filenames'): [b'x.png'] * m}
        if k == 10: b[key('labels')] = rng.integers(0, 10, m).tolist()
        else: b[key('fine_labels')], b[key('coarse_labels')] = (rng.integers(0, k, m).tolist() for k in (100, 20))
        (folder/name).write_bytes(pickle.dumps(b, protocol=protocol))
        written[name] = {(k.decode() if isinstance(k, bytes) else k): v for k, v in b.items()}
    meta = ({key('label_names'): [c.encode() for c in CIFAR10]} if k == 10 else
            {key('fine_label_names'): [f'fine{i:02d}'.encode() for i in range(100)],
             key('coarse_label_names'): [f'coarse{i:02d}'.encode() for i in range(20)]})
    (folder/('batches.meta' if k == 10 else 'meta')).write_bytes(pickle.dumps(meta, protocol=protocol))
    return folder, written

def torchvision_reference(written, files):
    "What torchvision's CIFAR10 does: vstack the batches in order, reshape to (N, 3, 32, 32), then (N, 32, 32, 3)."
    data = np.vstack([written[f]['data'] for f in files]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return data

@pytest.mark.parametrize('str_keys,protocol', [(False, 2), (True, 4), (True, 5)])
def test_cifar10_batches(tmp_path, str_keys, protocol):
    folder, written = write_batches(tmp_path, str_keys=str_keys, protocol=protocol)
    before = tree(tmp_path)
    data = image_arrays(tmp_path) # the folder above, as torchvision's root
    train = [f'data_batch_{i}' for i in range(1, 6)]
    np.testing.assert_array_equal(data.x_train.transpose(0, 2, 3, 1), torchvision_reference(written, train))
    np.testing.assert_array_equal(data.x_valid.transpose(0, 2, 3, 1), torchvision_reference(written, ['test_batch']))
    np.testing.assert_array_equal(data.y_train, sum((written[f]['labels'] for f in train), []))
    assert data.vocab == CIFAR10 and data.y_train.dtype == np.int64 and len(data.y_train) == 20
    # item 5 is batch 2's second image; its blue plane's last byte is the row's last
    assert data.x_train[5, 2, 31, 31] == written['data_batch_2']['data'][1, 3071]
    assert tree(tmp_path) == before and not (folder/'.fastai_ls_cache').exists() # nothing written, not even a cache
    assert folder_layout(folder) == folder_layout(tmp_path) == 'cifar_batches'

def test_cifar100_batches_fine_and_coarse(tmp_path):
    folder, written = write_batches(tmp_path, k=100)
    fine, coarse = cifar_arrays(folder), image_arrays(folder, labels='coarse')
    np.testing.assert_array_equal(fine.y_train, written['train']['fine_labels'])
    np.testing.assert_array_equal(coarse.y_valid, written['test']['coarse_labels'])
    assert (fine.c, coarse.c, fine.vocab[3], coarse.vocab[19]) == (100, 20, 'fine03', 'coarse19')
    np.testing.assert_array_equal(fine.x_train.reshape(len(fine.x_train), -1), written['train']['data'])

def test_bad_batches(tmp_path):
    def folder(name, **kw): return write_batches(tmp_path/name, **kw)[0]
    f = folder('missing'); (f/'test_batch').unlink()
    with pytest.raises(ValueError, match=r"test_batch' is missing: cifar-10-batches-py holds"): cifar_arrays(f)
    f = folder('meta'); (f/'batches.meta').unlink()
    with pytest.raises(ValueError, match=r"batches.meta' is missing"): cifar_arrays(f)
    f = folder('truncated'); (f/'data_batch_4').write_bytes((f/'data_batch_4').read_bytes()[:500])
    with pytest.raises(ValueError, match=r"data_batch_4' is not a pickled CIFAR batch"): cifar_arrays(f)
    f = folder('text'); (f/'data_batch_2').write_text('not a pickle')
    with pytest.raises(ValueError, match=r"data_batch_2' is not a pickled CIFAR batch"): cifar_arrays(f)
    f = folder('list'); (f/'data_batch_1').write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match=r"data_batch_1' holds a list, not a dict"): cifar_arrays(f)
    f = folder('float'); b = pickle.loads((f/'test_batch').read_bytes(), encoding='bytes')
    b[b'data'] = b[b'data'].astype(np.float32); (f/'test_batch').write_bytes(pickle.dumps(b))
    with pytest.raises(ValueError, match=r"test_batch' holds 'data' of float32 \(4, 3072\)"): cifar_arrays(f)
    f = folder('short'); b = pickle.loads((f/'data_batch_3').read_bytes(), encoding='bytes')
    b[b'labels'] = b[b'labels'][:3]; (f/'data_batch_3').write_bytes(pickle.dumps(b))
    with pytest.raises(ValueError, match=r"data_batch_3': labels must have shape \(4,\)"): cifar_arrays(f)
    b[b'labels'] = [0, 1, 2, 10]; (f/'data_batch_3').write_bytes(pickle.dumps(b))
    with pytest.raises(ValueError, match=r"data_batch_3': labels holds 10 at index 3, outside the 10 classes"):
        cifar_arrays(f)
    with pytest.raises(ValueError, match="CIFAR-10 .* has no coarse labels"):
        cifar_arrays(folder('c10'), labels='coarse')

def test_a_pickle_that_runs_code_is_refused(tmp_path):
    f = write_batches(tmp_path)[0]
    marker = tmp_path/'ran'
    class Run:
        def __reduce__(self): return (os.mkdir, (str(marker),))
    (f/'data_batch_1').write_bytes(pickle.dumps({b'data': Run()}))
    with pytest.raises(ValueError, match=r"it asks for (posix|os)\.mkdir"): cifar_arrays(f)
    assert not marker.exists()

# Noisy Imagenette

WNIDS = ['n01440764', 'n02102040', 'n02979186']

def write_noisy_imagenette(root, n_train=4, n_val=2, seed=0):
    "Noisy Imagenette's layout: train/ and val/ JPEGs of mixed sizes (one greyscale) and noisy_imagenette.csv."
    rng, rows = np.random.default_rng(seed), []
    for split, n in (('train', n_train), ('val', n_val)):
        for w in WNIDS:
            for i in range(n):
                rel = f'{split}/{w}/{w}_{i}.JPEG'
                (root/rel).parent.mkdir(parents=True, exist_ok=True)
                h, wd = rng.integers(10, 20, 2)
                img = rng.integers(0, 256, (h, wd) if i == 1 else (h, wd, 3), dtype=np.uint8)
                Image.fromarray(img).save(root/rel, quality=90)
                rows.append({'path': rel, 'noisy_labels_0': w, 'is_valid': split == 'val'})
    df = pd.DataFrame(rows)
    for pct in (1, 5, 25, 50):
        change = (~df.is_valid) & (rng.random(len(df)) < pct / 100)
        df[f'noisy_labels_{pct}'] = np.where(change, [WNIDS[(WNIDS.index(w) + 1) % 3] for w in df.noisy_labels_0],
                                             df.noisy_labels_0)
    df = df[['path', *NOISY_IMAGENETTE_COLS, 'is_valid']]
    df.to_csv(root/'noisy_imagenette.csv', index=False)
    return df

def pil_reference(root, rel, size):
    "The image as PIL decodes and resizes it (the reader must give these bytes)."
    return np.asarray(Image.open(root/rel).convert('RGB').resize((size[1], size[0]))).transpose(2, 0, 1)

@pytest.mark.parametrize('col', NOISY_IMAGENETTE_COLS)
def test_noisy_imagenette(tmp_path, col):
    root = tmp_path/'imagenette2-160'
    df = write_noisy_imagenette(root)
    before = tree(root)
    data = image_arrays(root, noisy_col=col, size=(12, 16))
    train, val = df[~df.is_valid], df[df.is_valid]
    np.testing.assert_array_equal(data.x_train, np.stack([pil_reference(root, p, (12, 16)) for p in train.path]))
    np.testing.assert_array_equal(data.x_valid, np.stack([pil_reference(root, p, (12, 16)) for p in val.path]))
    assert [data.vocab[i] for i in data.y_train] == train.noisy_labels_0.tolist() # the truth
    assert [data.vocab[i] for i in data.y_train_noisy] == train[col].tolist()
    assert [data.vocab[i] for i in data.y_valid] == val.noisy_labels_0.tolist()
    assert data.noise_rate == pytest.approx((train[col] != train.noisy_labels_0).mean())
    assert col in data.noisy_source and tree(root) == before # only the cache was added
    labels, rate = read_noisy_labels(root/'noisy_imagenette.csv', data, key=col) # the same column, read as a file
    np.testing.assert_array_equal(labels, data.y_train_noisy); assert rate == data.noise_rate

def test_noisy_imagenette_sizes_and_bad_csv(tmp_path):
    root = tmp_path/'imagenette2-160'
    df = write_noisy_imagenette(root)
    assert noisy_imagenette_arrays(root, size=8).x_train.shape == (12, 3, 8, 8)
    assert noisy_imagenette_arrays(root, size=(6, 10), mode='L').x_valid.shape == (6, 1, 6, 10)
    assert len(list((root/'.fastai_ls_cache').glob('*.npy'))) == 4 # one cache per size and mode
    with pytest.raises(ValueError, match=r"csv' has no column 'noisy_labels_10'; its columns are path"):
        noisy_imagenette_arrays(root, noisy_col='noisy_labels_10')
    df.drop(columns='is_valid').to_csv(root/'noisy_imagenette.csv', index=False)
    with pytest.raises(ValueError, match="has no column 'is_valid'"): noisy_imagenette_arrays(root)
    df.assign(is_valid=df.is_valid.map({True: 'yes', False: 'no'})).to_csv(root/'noisy_imagenette.csv', index=False)
    with pytest.raises(ValueError, match="'is_valid' must hold True and False, got (object|str) values such as 'no'"):
        noisy_imagenette_arrays(root)
    df.to_csv(root/'noisy_imagenette.csv', index=False); (root/df.path[3]).unlink()
    with pytest.raises(ValueError, match=f"lists '{df.path[3]}', which is not a file under"):
        noisy_imagenette_arrays(root)
    (root/'noisy_imagenette.csv').write_bytes(b'\xff\xfe\x00 not a csv \x00')
    with pytest.raises(ValueError, match="is not a readable CSV file"): noisy_imagenette_arrays(root)

# CIFAR-N's label files

def write_cifar_n(f, clean, seed=0, tensors=False):
    "A CIFAR-10_human.pt with CIFAR-N's keys: NumPy int64 arrays (or tensors), as torch.save wrote them; {key: labels}."
    import torch
    rng = np.random.default_rng(seed)
    d = {'clean_label': clean.copy()}
    for key, rate in (('aggre_label', 0.1), ('worse_label', 0.4), ('random_label1', 0.17), ('random_label2', 0.18),
                      ('random_label3', 0.18)):
        d[key] = np.where(rng.random(len(clean)) < rate, (clean + rng.integers(1, 10, len(clean))) % 10, clean)
    torch.save({k: torch.tensor(v) for k, v in d.items()} if tensors else d, f)
    return d

@pytest.mark.parametrize('tensors', [False, True])
def test_cifar_n_labels(tmp_path, tensors):
    data = cifar_arrays(write_batches(tmp_path, n=40)[0]) # 200 training images
    written = write_cifar_n(tmp_path/'CIFAR-10_human.pt', data.y_train, tensors=tensors)
    for key in ('aggre_label', 'worse_label', 'random_label1', 'random_label2', 'random_label3', 'clean_label'):
        labels, rate = read_noisy_labels(tmp_path/'CIFAR-10_human.pt', data, key=key)
        np.testing.assert_array_equal(labels, written[key])
        assert rate == np.count_nonzero(written[key] != written['clean_label']) / 200
    assert read_noisy_labels(tmp_path/'CIFAR-10_human.pt', data, key='worse_label')[1] > 0.25 # drawn at 0.4
    noisy = data.with_noisy_labels(labels, 'CIFAR-10_human.pt, clean_label')
    assert noisy.noise_rate == 0 and noisy.subset(3).y_train_noisy.shape == (30,)

def test_bad_label_files(tmp_path):
    import torch
    data = cifar_arrays(write_batches(tmp_path)[0]) # 20 training images, 10 classes
    f = tmp_path/'CIFAR-10_human.pt'
    write_cifar_n(f, data.y_train)
    with pytest.raises(ValueError, match=r"holds \d+ label arrays .*: name one with key"): read_noisy_labels(f, data)
    with pytest.raises(ValueError, match="has no 'noisy_label'; its keys are 'clean_label'"):
        read_noisy_labels(f, data, key='noisy_label')
    torch.save({'noisy_label': np.zeros(19, np.int64)}, tmp_path/'short.pt')
    with pytest.raises(ValueError, match=r"short.pt' \(noisy_label\) holds 19 labels, but .* has 20 training images"):
        read_noisy_labels(tmp_path/'short.pt', data)
    torch.save({'noisy_label': np.arange(20) * 5}, tmp_path/'CIFAR-100_human.pt')
    with pytest.raises(ValueError, match=r"100_human.pt' \(noisy_label\) holds labels 0..95, but .* has 10 classes"):
        read_noisy_labels(tmp_path/'CIFAR-100_human.pt', data)
    torch.save({'noisy_label': data.y_train, 'clean_label': np.roll(data.y_train, 1)}, tmp_path/'order.pt')
    with pytest.raises(ValueError, match="order.pt' \\(noisy_label\\): the file's clean labels differ"):
        read_noisy_labels(tmp_path/'order.pt', data)
    torch.save([1, 2], tmp_path/'list.pt')
    with pytest.raises(ValueError, match="list.pt' holds a list, not a dict"):
        read_noisy_labels(tmp_path/'list.pt', data)
    (tmp_path/'text.pt').write_text('hello')
    with pytest.raises(ValueError, match="text.pt' is not a file saved by torch.save"):
        read_noisy_labels(tmp_path/'text.pt', data)
    (tmp_path/'cut.pt').write_bytes(f.read_bytes()[:300])
    with pytest.raises(ValueError, match="cut.pt' is not a"): read_noisy_labels(tmp_path/'cut.pt', data)
    pd.DataFrame({'label': data.y_train}).to_csv(tmp_path/'labels.csv', index=False)
    with pytest.raises(ValueError, match=r"labels.csv' has no column 'noisy'; its columns are label"):
        read_noisy_labels(tmp_path/'labels.csv', data, key='noisy')
    with pytest.raises(ValueError, match="labels.csv' is a CSV: name its column"):
        read_noisy_labels(tmp_path/'labels.csv', data)
    pd.DataFrame({'label': ['cat'] * 19 + ['lion']}).to_csv(tmp_path/'names.csv', index=False)
    with pytest.raises(ValueError, match=r"names.csv' column 'label' holds 'lion', which is none of the 10 classes"):
        read_noisy_labels(tmp_path/'names.csv', data, key='label')
    pd.DataFrame({'label': [1.0] * 19 + [None]}).to_csv(tmp_path/'nan.csv', index=False)
    with pytest.raises(ValueError, match=r"nan.csv' column 'label' holds NaN at index 19"):
        read_noisy_labels(tmp_path/'nan.csv', data, key='label')
    (tmp_path/'labels.txt').write_text('1\n')
    with pytest.raises(ValueError, match="labels.txt' is neither a .pt"): read_noisy_labels(tmp_path/'labels.txt', data)
    with pytest.raises(ValueError, match="the array of labels holds an array of shape \\(2, 10\\)"):
        read_noisy_labels(np.zeros((2, 10), int), data)
    with pytest.raises(ValueError, match="data must be an ImageArrays"): read_noisy_labels(data.y_train, 'cifar10')

CIFAR_N = os.environ.get('FASTAI_LS_CIFAR_N') # a folder with CIFAR-10_human.pt and CIFAR-100_human.pt, if at hand

@pytest.mark.skipif(not CIFAR_N, reason="set FASTAI_LS_CIFAR_N to a folder holding CIFAR-N's .pt files")
def test_published_cifar_n_rates():
    "The published CIFAR-N noise rates, from the real files, on stand-in images (the labels need only the count)."
    import torch
    for name, published in (('CIFAR-10_human.pt', {'aggre_label': 9.01, 'random_label1': 17.23, 'random_label2': 18.12,
                                                   'random_label3': 17.64, 'worse_label': 40.21}),
                            ('CIFAR-100_human.pt', {'noisy_label': 40.20})):
        f = Path(CIFAR_N)/name
        clean = np.asarray(torch.load(f, weights_only=False)['clean_label']) # the trusted reference, read plainly
        k = int(clean.max()) + 1
        data = ImageArrays(np.zeros((50000, 1, 1, 1), np.uint8), clean, np.zeros((1, 1, 1, 1), np.uint8), [0], range(k))
        for key, pct in published.items():
            assert read_noisy_labels(f, data, key=key)[1] * 100 == pytest.approx(pct, abs=0.005)

# the sweep on a fixture

def test_sweep_one_epoch_on_cifar_batches(tmp_path):
    "`fastai_ls_sweep --dataset FOLDER` recognises torchvision's batches and trains a cell on 3×32×32 images."
    write_batches(tmp_path/'data', n=16)
    cmd = [Path(sys.executable).parent/'fastai_ls_sweep', '--dataset', str(tmp_path/'data'), '--kinds', 'symmetric',
           '--rates', '0.2', '--eps', '0,0.1', '--seeds', '0', '--epochs', '1', '--bs', '16',
           '--out', str(tmp_path/'out')]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    results = pd.read_csv(next((tmp_path/'out').glob('*.csv')))
    assert len(results) == 2 and results.test_acc.between(0, 1).all()

def run_sweep(*args, tmp_path):
    cmd = [Path(sys.executable).parent/'fastai_ls_sweep', *map(str, args), '--seeds', '0', '--epochs', '1',
           '--out', str(tmp_path/'out')]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'}, timeout=600)

def test_sweep_on_cifar_n_labels(tmp_path):
    "`--labels CIFAR-10_human.pt --labels_key worse_label`: the cells train on the file's labels at their realised rate."
    folder = write_batches(tmp_path/'data', n=16)[0] # 80 training images
    written = write_cifar_n(tmp_path/'CIFAR-10_human.pt', cifar_arrays(folder).y_train)
    r = run_sweep('--dataset', tmp_path/'data', '--labels', tmp_path/'CIFAR-10_human.pt', '--labels_key', 'worse_label',
                  '--methods', 'ce,ls:0.3', '--bs', '16', tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    results = pd.read_csv(tmp_path/'out'/'results.csv')
    rate = np.mean(written['worse_label'] != written['clean_label'])
    assert list(results.kind) == ['given'] * 2 and np.allclose(results.rate, rate) # the realised rate, not a drawn one
    assert results.dataset.str.contains(r'CIFAR-10_human\.pt \[worse_label\]').all() # the key names the source
    assert f"{rate:.2%} of 80 differ from the truth" in r.stdout
    # another key is another setting: its cells train, the first ones are kept
    r = run_sweep('--dataset', tmp_path/'data', '--labels', tmp_path/'CIFAR-10_human.pt', '--labels_key', 'aggre_label',
                  '--methods', 'ce', '--bs', '16', tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    results = pd.read_csv(tmp_path/'out'/'results.csv')
    assert len(results) == 3 and results.settings.nunique() == 2

def test_sweep_on_noisy_imagenette_column(tmp_path):
    "Noisy Imagenette's own CSV as --labels, one column chosen; --labels beside --kinds is refused."
    df = write_noisy_imagenette(tmp_path/'nette', n_train=8)
    r = run_sweep('--dataset', tmp_path/'nette', '--labels', tmp_path/'nette'/'noisy_imagenette.csv',
                  '--labels_key', 'noisy_labels_25', '--methods', 'ce', '--bs', '8', tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    train = df[~df.is_valid]
    results = pd.read_csv(tmp_path/'out'/'results.csv')
    assert results.rate.item() == pytest.approx(np.mean(train.noisy_labels_25 != train.noisy_labels_0))
    for bad, says in ((['--kinds', 'symmetric'], 'not both'), (['--labels_key', 'nope'], "has no column 'nope'")):
        r = run_sweep('--dataset', tmp_path/'nette', '--labels', tmp_path/'nette'/'noisy_imagenette.csv',
                      '--labels_key', 'noisy_labels_25', *bad, '--methods', 'ce', tmp_path=tmp_path)
        assert r.returncode == 2 and says in r.stderr, r.stderr

def test_cifar_recipe_one_epoch_and_the_preset(tmp_path):
    "`--model cifar_cnn --opt sgd_cifar` trains the papers' CNN with crop and flip on the batches; `--preset cifar` refuses a CPU."
    write_batches(tmp_path/'data', n=16)
    r = run_sweep('--dataset', tmp_path/'data', '--noise', 'cifar10:0.4', '--methods', 'ce', '--model', 'cifar_cnn',
                  '--opt', 'sgd_cifar', '--bs', '16', tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    results = pd.read_csv(tmp_path/'out'/'results.csv')
    assert results.model.tolist() == ['cifar_cnn, CropFlip(pad=4)'] and results.opt.tolist() == ['sgd_cifar']
    assert results.test_acc.between(0, 1).all()
    r = run_sweep('--preset', 'cifar', tmp_path=tmp_path)
    assert r.returncode == 2 and '--preset cifar needs --dataset' in r.stderr, r.stderr
    import torch
    if not torch.cuda.is_available():
        r = run_sweep('--preset', 'cifar', '--dataset', tmp_path/'data', tmp_path=tmp_path)
        assert r.returncode == 2 and 'is sized for a GPU' in r.stderr and 'hours' in r.stderr, r.stderr
        r = run_sweep('--preset', 'cifar', '--dataset', tmp_path/'nowhere', tmp_path=tmp_path)
        assert r.returncode == 2 and 'is not a folder: give the CIFAR-10 one' in r.stderr, r.stderr
    r = run_sweep('--dataset', tmp_path/'data', '--model', 'resnet', tmp_path=tmp_path)
    assert r.returncode == 2 and "--model: model must be one of small_cnn, cifar_cnn, got 'resnet'" in r.stderr, r.stderr
