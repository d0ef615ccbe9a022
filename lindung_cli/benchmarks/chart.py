"""The pipeline bench's PNG: workers through each stage over time, per run, and peak memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pipeline_chart(runs: list[dict[str, Any]], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs) + 1, figsize=(6 * (len(runs) + 1), 4.5), squeeze=False)
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
    ax = axes[0][-1]
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
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
