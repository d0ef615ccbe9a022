"""The pipeline bench's PNG: workers through each stage over time, per run, peak memory, and the
machine time per worker of each process (when measured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pipeline_chart(runs: list[dict[str, Any]], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    with_cpu = any(run.get("machine_time") for run in runs)
    panels = len(runs) + 1 + int(with_cpu)
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5), squeeze=False)
    for ax, run in zip(axes[0], runs, strict=False):
        for stage, points in run["series"].items():
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], label=stage)
        base = run.get("baseline") or {}
        ratio = run.get("pipeline_to_baseline")
        ax.set_title(
            f"{run['label']}\n{run['enrolled']:,} enrolled in {run['wall_s']:.0f} s "
            f"({run['pipeline_per_s']:.0f}/s; broker {base.get('per_s', 0):,.0f}/s"
            + (f", ratio {ratio:.3f})" if ratio is not None else ")"),
            fontsize=9,
        )
        ax.set_xlabel("seconds after the first nomination was sent")
        ax.set_ylabel("workers")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax = axes[0][len(runs)]
    labels = sorted({k for run in runs for k in run["peak_mib"]})
    width = 0.8 / max(1, len(runs))
    for i, run in enumerate(runs):
        ax.barh(
            [j + i * width for j in range(len(labels))],
            [run["peak_mib"].get(label, 0.0) for label in labels],
            height=width,
            label=run["label"],
        )
    ax.set_yticks([j + width * (len(runs) - 1) / 2 for j in range(len(labels))], labels, fontsize=8)
    ax.set_xlabel("peak MiB (RSS; PostgreSQL: PSS of its processes)")
    ax.set_title("peak memory per process", fontsize=9)
    ax.legend(fontsize=8)
    if with_cpu:
        _machine_time(axes[0][-1], runs)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _machine_time(ax: Any, runs: list[dict[str, Any]]) -> None:
    """CPU ms per worker of each process, one bar per run."""
    by_run = [(run.get("machine_time") or {}).get("by_process") or {} for run in runs]
    labels = sorted({k for found in by_run for k in found})
    width = 0.8 / max(1, len(runs))
    for i, (run, found) in enumerate(zip(runs, by_run, strict=True)):
        total = (run.get("machine_time") or {}).get("ms_per_worker", 0.0)
        ax.barh(
            [j + i * width for j in range(len(labels))],
            [(found.get(label) or {}).get("ms_per_worker", 0.0) for label in labels],
            height=width,
            label=f"{run['label']} ({total:.1f} ms in all)",
        )
    ax.set_yticks([j + width * (len(runs) - 1) / 2 for j in range(len(labels))], labels, fontsize=8)
    ax.set_xlabel("CPU ms per worker (user + system; PostgreSQL: all its processes)")
    ax.set_title("machine time per worker, first sent → last enrolled", fontsize=9)
    ax.legend(fontsize=8)
