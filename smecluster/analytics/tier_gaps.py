"""What a firm lacks for a tier: each criterion's value, status, gap and what would meet it.

Works on ONE firm's evaluated row (a diagnosis), criterion by criterion; batch work stays in SQL.
"""

from __future__ import annotations

from smecluster.analytics.catalogue import indicator as indicator_info
from smecluster.analytics.tier_query import STATUS_LABELS, TierPlan
from smecluster.policy.compile import indicator_column
from smecluster.policy.pack import Band, Criterion
from smecluster.values import format_value

WORDS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


def fmt(value, unit: str) -> str:
    """A value in its unit for a diagnosis read in either language (smecluster.values, both languages)."""
    return format_value(value, unit, lang="both", missing="未填报 / not reported")


def _shortfall(c: Criterion, value) -> float | None:
    if value is None or isinstance(c.threshold, bool):
        return None
    t = float(c.threshold)
    return {">=": t - value, ">": t - value, "<=": value - t, "<": value - t}.get(c.comparator)


def leaf_gap(c: Criterion, value, status: str) -> dict:
    """Gap of a leaf criterion: what the value is, what the text asks, how far it is."""
    info = indicator_info(c.indicator)
    unit = info.unit
    need = fmt(c.threshold, unit) if not isinstance(c.threshold, bool) else fmt(c.threshold, "bool")
    out = {"indicator": c.indicator, "label": info.label_zh, "label_en": info.label_en,
           "value": value, "value_text": fmt(value, unit), "comparator": c.comparator,
           "threshold": c.threshold, "threshold_text": f"{WORDS.get(c.comparator, c.comparator)} {need}"}
    if status == "unknown":
        out["advice"] = f"补充填报“{info.label_zh}”后方可判断 / report {info.label_en} to decide"
    elif status in ("fail", "warn"):
        short = _shortfall(c, value)
        if short is not None:
            out["shortfall"] = short
            out["shortfall_text"] = fmt(abs(short), unit)
        out["advice"] = f"{info.label_zh}：{out['value_text']} → {out['threshold_text']}"
    return out


def _better_bands(c: Criterion, points: float) -> list[Band]:
    return sorted((b for b in c.bands or [] if b.points > points), key=lambda b: b.points)


def _band_target(b: Band, value, unit: str) -> str:
    """What the value must become to fall in band `b` (≥ 3.00%, 是, ...)."""
    if b.equals is not None:
        return b.label or fmt(b.equals, unit)
    if b.min is not None and (value is None or value < b.min):
        return f"{'≥' if b.min_inclusive else '>'} {fmt(b.min, unit)}"
    if b.max is not None:
        return f"{'≤' if b.max_inclusive else '<'} {fmt(b.max, unit)}"
    return b.label or ""


def band_gap(c: Criterion, value, points) -> dict:
    """Points earned on a scored criterion and the next band up (the value it needs, the points gained)."""
    info = indicator_info(c.indicator)
    named = next((b.label for b in c.bands or [] if b.equals is not None and b.label and b.equals == value), None)
    out = {"indicator": c.indicator, "label": info.label_zh, "label_en": info.label_en, "value": value,
           "value_text": named or fmt(value, info.unit), "points": points, "max_points": c.max_points}
    if points is None:
        out["advice"] = f"补充填报“{info.label_zh}”后方可计分（最高 {c.max_points:g} 分）"
        return out
    better = _better_bands(c, points)
    if better:
        b = better[0]
        target = _band_target(b, value, info.unit)
        out["next_band"] = {"target": target, "points": b.points, "gain": b.points - points}
        out["advice"] = f"{info.label_zh}达到 {target} 可得 {b.points:g} 分（+{b.points - points:g}）"
    return out


def criterion_report(c: Criterion, plan: TierPlan, row: dict, values: dict) -> dict:
    """One criterion of one firm: status, points, value, gap, children (recursively)."""
    base = {"id": c.id, "title": c.title, "clause": c.clause, "role": c.role, "verified": c.verified,
            "note": c.note}
    if c.judgement or not c.assessed:
        return base | {"status": "not_assessed", "advice": "需评审判断 / needs a reviewer's judgement",
                       "max_points": c.max_points}
    if c.id in plan.points:
        pts = row.get(plan.points[c.id])
        status = "unknown" if pts is None else "pass"
        if c.best_of is not None:
            kids = [band_gap(k, values.get(indicator_column(k.indicator, k.params)), None) for k in c.best_of]
            return base | {"status": status, "points": pts, "max_points": c.max_points, "options": kids,
                           "advice": " 或 ".join(k.get("label", "") for k in kids) + " 任一提高可加分"
                           if pts is not None and pts < c.max_points else None}
        gap = band_gap(c, values.get(indicator_column(c.indicator, c.params)), pts)
        return base | {"status": status} | gap
    code = row.get(plan.status.get(c.id, ""))
    status = STATUS_LABELS[code] if code is not None else "unknown"
    out = base | {"status": status}
    if c.indicator is not None:
        return out | leaf_gap(c, values.get(indicator_column(c.indicator, c.params)), status)
    out["children"] = [criterion_report(k, plan, row, values) for k in c.children()]
    out["combine"] = "any" if c.any is not None else "all" if c.all is not None else f"at_least {c.at_least}"
    return out


def branch_cost(report: dict) -> tuple[int, int, float]:
    """How far a failing branch is from being met: (unknown leaves, failing leaves, the sum of each failing
    leaf's shortfall as a share of its threshold); lower is cheaper. A leaf without figures counts 1."""
    leaves = unmet(report)
    unknown = sum(1 for leaf in leaves if leaf.get("status") == "unknown")
    share = 0.0
    for leaf in leaves:
        short, threshold = leaf.get("shortfall"), leaf.get("threshold")
        if isinstance(short, int | float) and isinstance(threshold, int | float) and not isinstance(threshold, bool) \
                and threshold:
            share += abs(short) / abs(threshold)
        else:
            share += 1.0
    return (unknown, len(leaves) - unknown, share)


def unmet(report: dict) -> list[dict]:
    """The leaves of a criterion report that are not met (fail, warn or unknown), depth first.

    Within a failing 'any' (or 'at least k of') composition the branches are searched for the cheapest
    way to meet it (`branch_cost`): the cheapest branch (or the k - met cheapest) comes first, and every
    other failing branch follows with `alternative` set (any of them would do instead).
    """
    if report.get("status") in ("pass", "not_assessed"):
        return []
    kids = report.get("children")
    if not kids:
        return [report]
    combine = report.get("combine") or "all"
    if combine == "all":
        return [leaf for k in kids for leaf in unmet(k)]
    failing = sorted((k for k in kids if k.get("status") not in ("pass", "not_assessed")), key=branch_cost)
    met = sum(1 for k in kids if k.get("status") == "pass")
    needed = 1 if combine == "any" else max(1, int(combine.split()[-1]) - met)
    out = []
    for i, k in enumerate(failing):
        for leaf in unmet(k):
            out.append(leaf if i < needed else {**leaf, "alternative": report.get("id")})
    return out


# Score groups of the tier packs (pass_rule.group_minimums) by name.
GROUP_NAMES = {"innovation": ("创新能力", "innovation"), "growth": ("成长性", "growth"),
               "specialisation": ("专业化", "specialisation")}
MAX_COMBINATIONS = 50_000  # band choices tried for one group (a group has a few criteria of a few bands)


def _options(c: Criterion, pts, values: dict) -> list[dict]:
    """The ways one scored criterion can earn more: each better band (of the criterion, or of any option
    of a best-of) with its target, points and the number of bands climbed."""
    kids = c.best_of if c.best_of is not None else [c]
    now = pts or 0
    out = []
    for k in kids:
        info = indicator_info(k.indicator)
        value = values.get(indicator_column(k.indicator, k.params))
        for steps, b in enumerate(_better_bands(k, now), start=1):
            out.append({"criterion": c.id, "indicator": k.indicator, "label": info.label_zh,
                        "label_en": info.label_en, "value_text": fmt(value, info.unit),
                        "target": _band_target(b, value, info.unit), "points_from": now, "points_to": b.points,
                        "gain": b.points - now, "steps": steps})
    return out


def group_fixes(plan: TierPlan, row: dict, values: dict) -> list[dict]:
    """For each score group below its minimum, the cheapest changes WITHIN that group that lift it to the
    minimum: a search over the bands of the group's criteria (fewest criteria changed, then fewest bands
    climbed, then the least overshoot), with the group's and the total score that would result.

    Changes in other groups never appear: they leave the failing group failing.
    """
    import itertools

    rule = plan.pack.pass_rule
    if rule is None or not rule.group_minimums or not plan.points:
        return []
    total = row.get(plan.col("score"))
    out = []
    for g, minimum in rule.group_minimums.items():
        have = row.get(plan.col("group_" + g))
        if have is None or have >= minimum:
            continue
        scored = [c for c in plan.pack.criteria if c.role == "score" and c.group == g and c.id in plan.points]
        choices = [[None, *_options(c, row.get(plan.points[c.id]), values)] for c in scored]
        best, best_cost = None, None
        size = 1
        for ch in choices:
            size *= len(ch)
        if size <= MAX_COMBINATIONS:
            for combo in itertools.product(*choices):
                picked = [o for o in combo if o is not None]
                after = have + sum(o["gain"] for o in picked)
                if after < minimum:
                    continue
                cost = (len(picked), sum(o["steps"] for o in picked), after - minimum)
                if best_cost is None or cost < best_cost:
                    best, best_cost = picked, cost
        gain = sum(o["gain"] for o in best) if best else 0
        zh, en = GROUP_NAMES.get(g, (g, g))
        fix = {"group": g, "label_zh": zh, "label_en": en, "score": have, "minimum": minimum,
               "reachable": best is not None, "changes": best or [], "score_after": have + gain,
               "total_after": None if total is None else total + gain, "pass_score": rule.score_at_least}
        if best:
            steps = "；".join(f"{o['label']} {o['value_text']} → {o['target']}（{o['points_from']:g} → "
                             f"{o['points_to']:g} 分）" for o in best)
            fix["advice"] = (f"{zh}得分 {have:g}，低于最低要求 {minimum:g}：{steps}，{zh}可达 {have + gain:g} 分"
                             + (f"，总分 {total + gain:g}" if total is not None else ""))
            steps_en = "; ".join(f"{o['label_en']} {o['value_text']} → {o['target']} ({o['points_from']:g} → "
                                 f"{o['points_to']:g} points)" for o in best)
            fix["advice_en"] = (f"{en} scores {have:g}, below the minimum {minimum:g}: {steps_en}; {en} would "
                                f"reach {have + gain:g}" + (f", the total {total + gain:g}" if total is not None
                                                              else ""))
        else:
            fix["advice"] = f"{zh}得分 {have:g}，低于最低要求 {minimum:g}，本组各项均达最高档也无法补足"
            fix["advice_en"] = f"{en} scores {have:g}, below the minimum {minimum:g}, beyond reach within the group"
        out.append(fix)
    return out
