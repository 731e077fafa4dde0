"The fast data path (NormalizeBytes, plain-tensor batches), and what it refuses: small training sets, bad labels, bad image_stats input."
import pickle, warnings
import numpy as np
import pytest
import torch
from torch import Tensor
from fastai.data.core import Pipeline
from fastai.data.transforms import IntToFloatTensor, Normalize
from fastai.torch_core import TensorImage, TensorImageBW, TensorCategory
from fastai_ls.data import digits_arrays
from fastai_ls.dataloaders import (TensorImageDataset, TensorImageDL, TensorImageDataLoaders, NormalizeBytes,
                                   image_stats, noisy_dls)

warnings.filterwarnings('ignore', message='.*load_learner.*')
digits = digits_arrays()

def fastai_pair(stats): return Pipeline([IntToFloatTensor(), Normalize.from_stats(*stats, cuda=False)])

@pytest.mark.parametrize('shape, stats', [((64, 1, 8, 8), ([0.3], [0.37])),
                                          ((32, 3, 9, 7), ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))])
def test_fused_step_is_fastai_pair(shape, stats):
    "The same floats as fastai's IntToFloatTensor then Normalize, to 1e-6, and back to the exact bytes."
    x = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    x = (TensorImageBW if shape[1] == 1 else TensorImage)(x)
    y = TensorCategory(torch.arange(shape[0]) % 10)
    fused = NormalizeBytes.from_stats(*stats, cuda=False)
    got, want = fused((x, y)), fastai_pair(stats)((x, y))
    assert type(got[0]) is type(want[0]) and got[0].dtype == torch.float32
    assert (got[0] - want[0]).abs().max().item() <= 1e-6
    assert torch.equal(got[1], y)
    assert torch.equal(fused.decode(got)[0], x) # the bytes, exactly
    assert torch.equal(pickle.loads(pickle.dumps(fused))(x), got[0])

def test_default_batches_are_plain_and_equal_fastai_path():
    dls = TensorImageDataLoaders.from_arrays(digits, bs=32)
    assert [type(t) for t in dls.after_batch.fs] == [NormalizeBytes]
    xb, yb = next(iter(dls.valid))
    assert type(xb) is Tensor and type(yb) is Tensor
    ref = TensorImageDL(dls.valid_ds, bs=64, keep_types=True, after_batch=fastai_pair(image_stats(digits.x_train)).fs)
    rx, ry = next(iter(ref))
    assert type(rx) is TensorImageBW and type(ry) is TensorCategory
    assert (xb - rx).abs().max().item() <= 1e-6 and torch.equal(yb, ry.as_subclass(Tensor))
    dx, dy = dls.valid.decode((xb, yb))
    assert type(dx) is TensorImageBW and torch.equal(dx, torch.from_numpy(digits.x_valid[:64]))

def test_learner_paths_on_plain_batches(tmp_path):
    "fit, get_preds, predict, test_dl, show_batch, show_results, export and load_learner on the default path."
    import matplotlib; matplotlib.use('Agg')
    from fastai.vision.all import Learner, nn, accuracy, load_learner, set_seed
    dls = TensorImageDataLoaders.from_arrays(digits, bs=32)
    set_seed(0)
    learn = Learner(dls, nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), metrics=accuracy)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-2)
    preds, targs = learn.get_preds()
    assert torch.equal(targs, torch.from_numpy(digits.y_valid))
    name, idx, probs = learn.predict(digits.x_valid[0, 0])
    assert idx == preds[0].argmax() and name == digits.vocab[idx] and torch.allclose(probs, preds[0], atol=1e-6)
    assert torch.equal(learn.get_preds(dl=dls.test_dl(digits.x_valid[:10]))[0], preds[:10])
    x, _, its = dls.valid.show_batch(max_n=3, show=False)
    assert torch.equal(x[:3], torch.from_numpy(digits.x_valid[:3])) and [o[1] for o in its] == [
        digits.vocab[i] for i in digits.y_valid[:3]]
    dls.show_batch(max_n=3); learn.show_results(max_n=3)
    learn.export(tmp_path/'l.pkl')
    loaded = load_learner(tmp_path/'l.pkl')
    assert [type(t) for t in loaded.dls.after_batch.fs] == [NormalizeBytes]
    assert torch.allclose(loaded.predict(digits.x_valid[0, 0])[2], probs)

def test_package_callbacks_on_plain_batches():
    "The package's callbacks that read the batches (NoiseMonitor, ELR's ItemIndices) train on them."
    from fastai_ls.learner import noisy_learner
    from fastai_ls.callbacks import NoiseMonitor
    from fastai_ls.robust_losses import ELRLoss, ItemIndices
    learn = noisy_learner(digits, rate=0.2, bs=64, cbs=NoiseMonitor())
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)
    elr = noisy_learner(digits, rate=0.2, bs=64, loss_func=ELRLoss(len(digits.x_train)), cbs=ItemIndices())
    with elr.no_bar(), elr.no_logging(): elr.fit(1, 1e-3)
    assert elr.loss_func.target is not None and elr.loss_func.target.abs().sum() > 0

def test_keep_types():
    dls = TensorImageDataLoaders.from_arrays(digits, bs=32, keep_types=True)
    xb, yb = dls.one_batch()
    assert type(xb) is TensorImageBW and type(yb) is TensorCategory and dls.test_dl(digits.x_valid[:2]).keep_types
    with pytest.raises(ValueError, match="keep_types must be True or False, got 'no'"):
        TensorImageDL(TensorImageDataset(digits.x_train[:4]), keep_types='no')

def test_augmentation_keeps_fastai_two_steps():
    from fastai.vision.augment import aug_transforms, RandomErasing
    aug = TensorImageDataLoaders.from_arrays(digits, bs=32, batch_tfms=aug_transforms(do_flip=False, size=8))
    names = [type(t).__name__ for t in aug.after_batch.fs]
    assert names[0] == 'IntToFloatTensor' and names[-1] == 'Normalize' and 'Brightness' in names
    assert torch.isfinite(aug.train.one_batch()[0]).all()
    erasing = TensorImageDataLoaders.from_arrays(digits, bs=32, batch_tfms=[RandomErasing(p=1.)])
    assert [type(t).__name__ for t in erasing.after_batch.fs] == ['NormalizeBytes', 'RandomErasing']

# a training set smaller than one batch is refused (before: fit ran zero batches)
def test_training_set_smaller_than_one_batch():
    with pytest.raises(ValueError, match=r"bs=64 is more than the 20 training images.*give bs <= 20"):
        TensorImageDataLoaders.from_arrays(digits.subset(2), bs=64)
    with pytest.raises(ValueError, match=r"bs=256 is more than the 200 training images"):
        noisy_dls(digits, n_per_class=20, bs=256)
    assert len(TensorImageDataLoaders.from_arrays(digits.subset(2), bs=20).train) == 1

# labels of the fast data path
x20, y20 = digits.x_train[:20], digits.y_train[:20]
at = lambda i, v: np.where(np.arange(20) == i, v, y20)

@pytest.mark.parametrize('y, message', [
    (np.full(20, 0.5), r"y must hold integer class indices 0\.\.9, got float64 labels such as 0.5 \(at index 0\)"),
    (at(4, np.nan), r"y holds NaN at index 4"),
    (at(5, 15), r"y holds 15 at index 5, outside the 10 classes"),
    (at(6, 99), r"y holds 99 at index 6"), (at(7, -1), r"y holds -1 at index 7"),
    (y20.astype(float), r"they are whole numbers, so pass y.astype\(np.int64\)"), (y20 > 3, "got bool")])
def test_dataset_labels(y, message):
    with pytest.raises(ValueError, match=message): TensorImageDataset(x20, y, digits.vocab)

def test_dataset_labels_without_vocab_and_clean():
    with pytest.raises(ValueError, match=r"y holds -1 at index 7: labels must be >= 0"):
        TensorImageDataset(x20, at(7, -1))
    with pytest.raises(ValueError, match=r"clean holds 10 at index 2, outside the 10 classes"):
        TensorImageDataset(x20, y20, digits.vocab, at(2, 10))
    assert TensorImageDataset(x20, y20.astype(np.uint8), digits.vocab).y.dtype == np.int64

@pytest.mark.parametrize('value, message', [(0.5, "got float64 labels such as 0.5"), (np.nan, "holds NaN at index 3"),
                                            (15, "holds 15 at index 3"), (99, "holds 99 at index 3"), (-1, "holds -1 at index 3")])
def test_from_arrays_labels(value, message):
    y = np.where(np.arange(len(digits.y_train)) == 3, value, digits.y_train)
    if value == 0.5: y = np.full(len(y), value)
    with pytest.raises(ValueError) as e: TensorImageDataLoaders.from_arrays(digits, y_train=y)
    assert str(e.value).startswith('y_train ') and message in str(e.value), str(e.value)

# image_stats
def test_image_stats_bad_input():
    with pytest.raises(ValueError, match=r"x holds 0 images of 1×8×8"): image_stats(digits.x_train[:0])
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got 0"): image_stats(digits.x_train, n=0)
    with pytest.raises(ValueError, match=r"x must be uint8 images .* got float64 .*255 times too small"):
        image_stats(digits.x_train / 255)
    mean, std = image_stats(digits.x_train)
    assert np.isclose(mean[0], digits.x_train.mean() / 255)
    assert np.isclose(std[0], (digits.x_train / 255).std(), atol=1e-6)
