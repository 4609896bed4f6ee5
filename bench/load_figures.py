"""The figures of ``bench/bench_load.py`` from what the locustfile recorded: the rules that make a
load run pass or fail (samples, ratios to the trivial view, errors), apart from running it."""

from __future__ import annotations

from typing import Any

from bench.common import Result

BASELINE = "trivial view"
# p95 of every page, panel and endpoint as a multiple of the trivial view's p95 in the same run.
GOAL_P95_RATIO = 20.0
# Fewer samples than this give no p95 worth printing: the figure fails instead.
MIN_SAMPLES = 30
MEASURED = [
    "worklist",
    "account page",
    "leadership overview",
    # then one "panel <url>" per overview panel (the leaders open every one)
    "api accounts list",
    "api account detail",
    "api tier history",
    "api sync (50 records)",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def load_results(
    out: dict[str, Any],
    *,
    users: int,
    load_seconds: float,
    total: int,
    moved: int,
    during: dict[str, Any],
    review: dict[str, Any],
    nightly: str,
) -> list[Result]:
    """The BENCH lines of one load run from the locustfile's output (``out``): throughput,
    errors, the slowest request, and a p95 per page, panel and endpoint against the baseline."""
    server_ms: dict[str, list[float]] = out["server_ms"]
    client_ms: dict[str, list[float]] = out.get("client_ms", {})
    status: dict[str, dict[str, int]] = out["status"]
    measured = {name: counts for name, counts in status.items() if name not in ("sign-in form", "sign in")}
    requests_total = sum(sum(counts.values()) for counts in measured.values())
    errors = sum(n for counts in status.values() for code, n in counts.items() if code.startswith("error"))
    baseline_p95 = percentile(server_ms.get(BASELINE, []), 95)
    slowest_name = max(client_ms, key=lambda name: max(client_ms[name] or [0.0]), default="")
    slowest_ms = max(client_ms.get(slowest_name) or [0.0])
    results = [
        Result(
            "load_throughput",
            requests_total / load_seconds,
            "req/s",
            higher_is_better=True,
            note=f"{users} users, {load_seconds:.0f} s, {requests_total:,} requests, {total:,} accounts",
        ),
        Result(
            "load_errors",
            float(errors),
            "count",
            goal=0,
            note=", ".join(
                f"{name}: {dict(c)}" for name, c in status.items() if any(k.startswith("error") for k in c)
            )
            or "redirects, timeouts and unfinished requests count",
        ),
        Result(
            "load_slowest_request",
            slowest_ms,
            "ms",
            note=f"{slowest_name} (client side, queueing included)",
        ),
        Result(
            f"load_p95_{BASELINE.replace(' ', '_')}",
            baseline_p95,
            "ms",
            ratio=1.0,
            note=(
                f"baseline; p50 {percentile(server_ms.get(BASELINE, []), 50):.1f} ms, "
                f"n={len(server_ms.get(BASELINE, []))}"
            ),
        ),
    ]
    names = [*MEASURED[:3], *sorted(n for n in status if n.startswith("panel ")), *MEASURED[3:]]
    for name in names:
        values = server_ms.get(name, [])
        slug = (
            name.replace(" (50 records)", "").replace("/", " ").strip().replace("  ", " ").replace(" ", "_")
        )
        if len(values) < MIN_SAMPLES or len(server_ms.get(BASELINE, [])) < MIN_SAMPLES:
            results.append(
                Result(
                    f"load_p95_{slug}",
                    float(len(values)),
                    "samples",
                    goal=MIN_SAMPLES,
                    higher_is_better=True,
                    note=f"too few samples for a p95 (baseline n={len(server_ms.get(BASELINE, []))})",
                )
            )
            continue
        p50, p95, p99 = (percentile(values, q) for q in (50, 95, 99))
        results.append(
            Result(
                f"load_p95_{slug}",
                p95,
                "ms",
                ratio=p95 / baseline_p95 if baseline_p95 else None,
                goal=GOAL_P95_RATIO,
                note=f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, n={len(values)}",
            )
        )
    took = ""
    if review.get("started_at") and review.get("finished_at"):
        from datetime import datetime

        seconds = datetime.fromisoformat(review["finished_at"]) - datetime.fromisoformat(review["started_at"])
        took = f" in {seconds.total_seconds():.0f} s"
    review_note = (
        f"review #{review['id']}{took}: {during['status']} at the end of the load "
        f"({during['accounts_done']:,}/{during['accounts_total']:,} accounts), then {review['status']}; "
        f"{moved:,} accounts moved across a threshold, {review.get('changes_applied', 0):,} changes applied; "
        f"setup: {nightly}"
    )
    results.append(
        Result(
            "load_review_accounts_done_during_load",
            float(during["accounts_done"]),
            "accounts",
            note=review_note,
        )
    )
    return results
