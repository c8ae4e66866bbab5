"""A run's own files where its checkpoints go: a local directory, or a URI every node of a cluster reaches.

    run_dir("/abs/results", "mlp")            # Path("/abs/results/mlp")
    run_dir("s3://bucket/ray-gpei", "mlp")    # "s3://bucket/ray-gpei/mlp"
    with staged(directory) as local:           # the directory itself, or a temporary one uploaded on exit
        (local / "best.json").write_text(text)
    read_text(directory, "best.json")

Ray writes trials' checkpoints to ``--storage-path`` through pyarrow's
filesystems (``s3://``, ``gs://``, ``file://``, a local path); the jobs' reports
(``trials.csv``, ``best.json``, the plots, ``repeat.csv``) go to the same place
the same way, and ``tune_jobs.predict`` reads them back from there. A run
directory is a ``Path`` for local storage and the URI, a ``str``, otherwise.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def is_uri(location: str | Path) -> bool:
    return "://" in str(location)


def run_dir(storage_path: str, name: str) -> Path | str:
    """The run's directory under ``storage_path``: a ``Path``, or a URI for remote storage."""
    return f"{storage_path.rstrip('/')}/{name}" if is_uri(storage_path) else Path(storage_path) / name


@contextmanager
def staged(directory: str | Path) -> Iterator[Path]:
    """A local directory to write into: ``directory`` itself (created), or for a URI a temporary one whose
    files are copied there when the block ends without an error."""
    if not is_uri(directory):
        Path(directory).mkdir(parents=True, exist_ok=True)
        yield Path(directory)
        return
    from pyarrow import fs

    with tempfile.TemporaryDirectory(prefix="run-reports-") as local:
        yield Path(local)
        fs.copy_files(local, str(directory))


def read_text(directory: str | Path, name: str) -> str:
    """The text of file ``name`` in ``directory`` (a local path or a URI); FileNotFoundError if it has none."""
    if not is_uri(directory):
        return (Path(directory) / name).read_text()
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(f"{str(directory).rstrip('/')}/{name}")
    if filesystem.get_file_info(path).type != fs.FileType.File:
        raise FileNotFoundError(f"{directory}/{name}")
    with filesystem.open_input_stream(path) as f:
        return f.read().decode()


def is_dir(location: str | Path) -> bool:
    if not is_uri(location):
        return Path(location).is_dir()
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(str(location))
    return filesystem.get_file_info(path).type == fs.FileType.Directory


def checkpoint_location(checkpoint) -> str:
    """Where a Ray ``Checkpoint`` lives, as ``Checkpoint(location)`` finds it again from any process: its
    path for local storage, its URI (``s3://bucket/...``) for remote."""
    kind = checkpoint.filesystem.type_name
    if kind == "local":
        return checkpoint.path
    scheme = {"gcs": "gs"}.get(kind, kind)  # pyarrow's name for Google Cloud Storage; its URIs say gs://
    return f"{scheme}://{checkpoint.path}"
