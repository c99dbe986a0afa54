"""Charts of a dossier as PNG images (matplotlib; Chinese in Noto Sans CJK).

One chart per cluster: how far each criterion is met over the years (value ÷ threshold, or its inverse
for an upper bound; 100% = the threshold), with the projection to the re-review year dashed. One axes
instead of one panel per criterion: a hundred dossiers are drawn in seconds, and a line crossing 100%
shows at a glance which condition is drifting (decision 1329).
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: charts are files, never windows

import matplotlib.pyplot as plt  # noqa: E402

CJK = "Noto Sans CJK SC"
plt.rcParams["axes.unicode_minus"] = False  # the CJK font lacks U+2212
SHOWN_MAX = 3.0  # shares above 300% of the threshold are drawn at the top edge
COLOURS = ["#1f5fa8", "#e07b00", "#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d4ac0d", "#34495e"]


def charted(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Criteria a share of the threshold means something for: a non-zero numeric threshold and a value."""
    return [c for c in criteria if isinstance(c["threshold"], int | float) and not isinstance(c["threshold"], bool)
            and c["threshold"] != 0 and any(v is not None for v in c["values"].values())]


def share(c: dict[str, Any], value: float) -> float:
    """How far a value meets its criterion: value ÷ threshold for a lower bound (不低于), threshold ÷ value
    for an upper bound (不超过); 100% is the threshold and above it the criterion is met either way."""
    t = float(c["threshold"])
    if c["comparator"] in ("<=", "<"):
        return SHOWN_MAX if value <= 0 else min(t / value, SHOWN_MAX)
    return min(value / t, SHOWN_MAX)


def _series(c: dict[str, Any]) -> tuple[list[int], list[float]]:
    pairs = sorted((int(y), float(v)) for y, v in c["values"].items() if v is not None)
    return [y for y, _ in pairs], [share(c, v) for _, v in pairs]


def trend_png(entry: dict[str, Any], dpi: int = 96) -> bytes | None:
    """The chart of a watch entry (services.watch.cluster_entry) as PNG bytes; None when nothing to draw."""
    criteria = charted(entry["criteria"])
    if not criteria:
        return None
    end = entry.get("re_review_year")
    fig, ax = plt.subplots(figsize=(7.5, 3.4), dpi=dpi)
    first, last = None, None
    for i, c in enumerate(criteria):
        years, shares = _series(c)
        colour = COLOURS[i % len(COLOURS)]
        risky = c["at_risk"] and c.get("condition_at_risk", True)
        label = f"{c['id']}{' ▲' if risky else ''}"
        ax.plot(years, shares, marker="o", markersize=3, linewidth=2.2 if risky else 1.2, color=colour,
                label=label)
        if end and c.get("projected") is not None:
            ax.plot([years[-1], end], [shares[-1], share(c, c["projected"])],
                    linestyle="--", linewidth=1, color=colour)
        first = min(years[0], first or years[0])
        last = max(years[-1], end or years[-1], last or 0)
    ax.axhline(1.0, color="#b42318", linewidth=1.2)
    ax.text(first, 1.02, "门槛", color="#b42318", fontsize=8, fontfamily=CJK)
    ax.set_xticks(range(first, last + 1))
    ax.set_ylim(0, SHOWN_MAX * 1.05)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ax.set_title(f"各条件达标程度（100%为门槛；虚线推至{end}年复核）" if end else "各条件达标程度（100%为门槛）",
                 fontsize=10, fontfamily=CJK)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, ncol=min(len(criteria), 5), loc="upper center", bbox_to_anchor=(0.5, -0.08),
              frameon=False)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.24)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
