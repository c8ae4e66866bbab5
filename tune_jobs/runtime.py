"""Starting or joining Ray, checking that the trials fit on its nodes, and claiming the run directory.

A Ray the project starts on this machine listens on 127.0.0.1 only, whether
or not ``ray`` was imported before (as a notebook does); a cluster joined
through ``RAY_ADDRESS`` (as under ``ray job submit``) is used as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from .options import SweepOptions

_LOOPBACK = "127.0.0.1"


def joined_cluster() -> bool:
    """Whether ``RAY_ADDRESS`` names a cluster to join (as under ``ray job submit``)."""
    return bool(os.environ.get("RAY_ADDRESS"))


def start_ray(*, verbose: bool = False) -> None:
    """Join the cluster in ``RAY_ADDRESS``, else start Ray on this machine on loopback only.

    A Ray already running in this process (``ray.init()`` in a notebook) is used as it is.
    """
    import ray

    quiet_console(verbose)
    if ray.is_initialized():
        return
    level = "INFO" if verbose else "WARNING"
    workers = ray.LoggingConfig(log_level=level)  # the trials' own "Checkpoint created" lines stay quiet
    if joined_cluster():
        ray.init(logging_level=level, logging_config=workers)
        return
    keep_to_loopback()
    ray.init(include_dashboard=False, logging_level=level, logging_config=workers, _node_ip_address=_LOOPBACK)


def disconnect() -> None:
    """Leave Ray (and stop the one this process started) if connected."""
    import ray

    if ray.is_initialized():
        ray.shutdown()


def quiet_console(verbose: bool) -> None:
    """Unless ``verbose``: Tune's own trial tables and banners off (``console.Progress`` reports instead),
    Ray's notice that token authentication is on (ours is on by design) not repeated, and its warning
    about trials without results not printed (the summary counts the trials the time budget stopped
    before their first epoch, and names failed ones with their errors)."""
    import logging

    if verbose:
        return
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"  # read by each Tuner.fit: with verbose=0 the classic reporter is silent
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")  # per-epoch checkpoints
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    logging.getLogger("ray.tune.analysis.experiment_analysis").addFilter(_with_results)


def _with_results(record) -> bool:
    """Drops Ray's "Failed to fetch metrics for N trial(s)" (trials that never reported)."""
    return not record.getMessage().startswith("Failed to fetch metrics")


def keep_to_loopback() -> None:
    """Make the Ray this process starts bind to 127.0.0.1 only, even when ``ray`` is imported already.

    Ray reads ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` once, when ``ray`` is imported, into
    ``ray_constants.ENABLE_RAY_CLUSTER``: the variable reaches the processes Ray starts
    (they import ray afresh), the constant covers this one.
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False


def largest_node(nodes: list[dict]) -> dict[str, float]:
    """The most of each resource that one alive node offers (from ``ray.nodes()``)."""
    most: dict[str, float] = {}
    for node in nodes:
        if node.get("Alive", True):
            for resource, amount in node.get("Resources", {}).items():
                most[resource] = max(most.get(resource, 0.0), float(amount))
    return most


def check_resources(options: SweepOptions, nodes: list[dict], *, joined: bool,
                    node_types: dict[str, dict[str, float]] | None = None) -> None:
    """Refuse a sweep whose trials no node can hold; on a joined cluster, an autoscaler may add one:
    with its ``node_types`` known (``autoscaler_node_types``), refuse when none of them can hold a
    trial and otherwise name those that can; without, warn. ``nodes`` as ``ray.nodes()`` lists them."""
    most = largest_node(nodes)
    wants = [("GPU", options.gpus_per_trial, "--gpus-per-trial"), ("CPU", options.cpus_per_trial, "--cpus-per-trial")]
    for resource, per_trial, flag in wants:
        have = most.get(resource, 0.0)
        if per_trial <= have:
            continue
        message = f"{flag} {per_trial:g}: the largest node of the Ray cluster has {have:g} {resource}s"
        if not joined:
            raise SystemExit(f"{message}; lower {flag} or run on a cluster with nodes that have them")
        if node_types is None:
            print(f"warning: {message}; trials wait until the autoscaler adds a node with enough {resource}s",
                  flush=True)
            continue
        fits = {name: r for name, r in node_types.items() if r.get(resource, 0.0) >= per_trial}
        listed = ", ".join(f"{name} ({_describe(r)})" for name, r in node_types.items())
        if not fits:
            raise SystemExit(f"{message}, and none of the autoscaler's node types has enough: {listed}")
        print(f"warning: {message}; trials wait until the autoscaler adds one of its node types "
              f"{', '.join(fits)} ({resource}s per node: "
              + ", ".join(f"{r.get(resource, 0.0):g}" for r in fits.values()) + ")", flush=True)


BOOTSTRAP_CONFIG = "~/ray_bootstrap_config.yaml"  # the cluster YAML `ray up` leaves on the head node


def autoscaler_node_types(path: str | Path = BOOTSTRAP_CONFIG) -> dict[str, dict[str, float]] | None:
    """The worker node types an autoscaler may add and each one's resources, from the cluster YAML
    that ``ray up`` puts on the head node (where ``ray job submit`` runs the driver), its resources
    filled in from the instance types; None where there is no such file."""
    import yaml

    file = Path(path).expanduser()
    if not file.is_file():
        return None
    config = yaml.safe_load(file.read_text()) or {}
    types = config.get("available_node_types") or {}
    head = config.get("head_node_type")
    return {name: {k: float(v) for k, v in (spec.get("resources") or {}).items()}
            for name, spec in types.items() if name != head and spec.get("max_workers", 1) > 0}


def _describe(resources: dict[str, float]) -> str:
    return ", ".join(f"{v:g} {k}" for k, v in resources.items() if k in ("CPU", "GPU")) or "no CPUs or GPUs listed"


def prepare_storage(options: SweepOptions) -> None:
    """Create a local ``storage_path`` and check it is writable (remote URIs are Ray's to check)."""
    if "://" in options.storage_path:
        return
    storage = Path(options.storage_path)
    try:
        storage.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SystemExit(f"--storage-path {storage} cannot be created: {e}") from e
    if not os.access(storage, os.W_OK):
        raise SystemExit(f"--storage-path {storage} is not writable")


def claim_run_dir(options: SweepOptions) -> None:
    """Create the run's directory atomically: of two sweeps started with one name, one stops here."""
    if "://" in options.storage_path or options.resume:
        return
    try:
        options.run_dir.mkdir()
    except FileExistsError:
        raise SystemExit(f"{options.run_dir} already exists: pass --resume to continue it, "
                         "or choose another --name") from None
    except OSError as e:
        raise SystemExit(f"cannot create the run directory {options.run_dir}: {e}") from e


def start(options: SweepOptions, *, verbose: bool = False) -> None:
    """Start or join Ray, check its nodes can run the trials, then claim the run's directory."""
    import ray

    start_ray(verbose=verbose)
    joined = joined_cluster()
    check_resources(options, ray.nodes(), joined=joined, node_types=autoscaler_node_types() if joined else None)
    claim_run_dir(options)
