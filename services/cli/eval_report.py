"""The outputs of `swarmcast eval`: `<name>.json`, `<name>.md` and the reliability diagram `<name>.png`.

Everything here is a pure function of the run's records (one per question, from the state file), so
a resumed or partial run writes the same report as an uninterrupted one. Scores come from
`services.common.scoring` (Brier, log score, calibration, ECE, sharpness, bootstrap skill).

Forecasters, all on the same questions, backend and model:
- `swarm`: the job's headline forecast (`result_structured.forecast.goal.probability`);
- `always_0.5`: 0.5 for every question;
- `opening_price`: the goal market's opening price (`forecast.baselines.opening_price`, else the goal
  market's `initial_price_yes` in the job's `markets_config`);
- `direct`: a single forecast without simulation (`forecast.baselines.direct.probability`); missing
  when the stack did not make one, and then reported as n/a, never filled in.

The common questions are the completed ones where the swarm and the opening price both have a
probability; `direct` is scored over those of them where it exists, and the report says so.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from services.common.scoring import ScoreSummary, Skill, brier, brier_skill, log_score, summarize

SWARM = "swarm"
ALWAYS_HALF = "always_0.5"
OPENING = "opening_price"
DIRECT = "direct"
FORECASTERS = (SWARM, ALWAYS_HALF, OPENING, DIRECT)
BASELINES = (ALWAYS_HALF, OPENING, DIRECT)
LABELS = {
    SWARM: "swarm (simulation)",
    ALWAYS_HALF: "always 0.5",
    OPENING: "opening price",
    DIRECT: "single forecast, no simulation",
}
# How the statements name a baseline ("no better than the opening price").
BASELINE_NAMES = {
    ALWAYS_HALF: "always saying 0.5",
    OPENING: "the opening price",
    DIRECT: "a single forecast without simulation",
}
SKILL_LEVEL = 0.9
SKILL_SEED = 0
# ForecastBench's published leaderboard (Brier, lower is better), for a run on its question set.
FORECASTBENCH_REFERENCE = (
    ("superforecaster median", 0.10),
    ("best LLM without tools", 0.14),
    ("always 0.5", 0.25),
)
FORECASTBENCH_URL = "https://www.forecastbench.org"
# Below this many scored questions the markdown says that the intervals are wide.
FEW_QUESTIONS = 30
# Skills are printed to 3 decimals: an interval from 0.003 to 0.031 must not read as "0.00 to 0.03".
SKILL_DIGITS = 3


# --- per question ---------------------------------------------------------------------------------


def _score(p: float | None, outcome: bool) -> dict[str, float | None]:
    if p is None:
        return {"brier": None, "log_score": None}
    return {"brier": brier(p, outcome), "log_score": log_score(p, outcome)}


def question_row(question: Mapping[str, Any], record: Mapping[str, Any] | None) -> dict[str, Any]:
    """One question of the report: what was asked, what happened, each forecaster's probability and
    scores (None where it has none), the job and how long it took."""
    outcome = bool(question["outcome"])
    record = record or {}
    status = str(record.get("status") or "unfinished")
    completed = status == "completed"
    swarm = record.get("swarm") or {}
    direct = record.get("direct") or {}
    p_swarm = swarm.get("probability") if completed else None
    p_open = record.get("opening_price") if completed else None
    p_direct = direct.get("probability") if completed else None
    row: dict[str, Any] = {
        "id": question["id"],
        "question": question["question"],
        "outcome": "YES" if outcome else "NO",
        "resolution_date": question.get("resolution_date"),
        "category": question.get("category"),
        "status": status,
        "job_id": record.get("job_id"),
        "retry_of": record.get("retry_of"),
        "seconds": record.get("seconds"),
        "error": record.get("error"),
        SWARM: {
            "probability": p_swarm,
            "interval": swarm.get("interval") if completed else None,
            "level": swarm.get("level") if completed else None,
            "replicates": swarm.get("replicates") if completed else None,
            **_score(p_swarm, outcome),
        },
        ALWAYS_HALF: {
            "probability": 0.5 if completed else None,
            **_score(0.5 if completed else None, outcome),
        },
        OPENING: {"probability": p_open, **_score(p_open, outcome)},
        DIRECT: {
            "probability": p_direct,
            "source": direct.get("source") if completed else None,
            "reason": direct.get("reason") if completed else None,
            **_score(p_direct, outcome),
        },
    }
    return row


def _scored(row: Mapping[str, Any]) -> bool:
    return (
        row["status"] == "completed"
        and row[SWARM]["probability"] is not None
        and row[OPENING]["probability"] is not None
    )


# --- summaries --------------------------------------------------------------------------------------


def _summary_dict(s: ScoreSummary, *, note: str | None = None) -> dict[str, Any]:
    return {
        "count": s.count,
        "brier": s.brier,
        "log_loss": s.log_score,
        "ece": s.ece,
        "sharpness": s.sharpness,
        "calibration": [
            {
                "lower": b.lower,
                "upper": b.upper,
                "count": b.count,
                "mean_forecast": b.mean_forecast,
                "observed": b.observed,
            }
            for b in s.calibration
        ],
        "note": note,
    }


def _skill_dict(skill: Skill, count: int) -> dict[str, Any]:
    return {
        "value": skill.value,
        "interval": list(skill.interval) if skill.interval is not None else None,
        "level": skill.level,
        "resamples": skill.resamples,
        "seed": SKILL_SEED,
        "count": count,
    }


def summaries(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per forecaster its scores over the common questions (direct: where it exists), and the
    swarm's Brier skill against each baseline, paired on the same questions."""
    common = [r for r in rows if _scored(r)]
    outcomes = [r["outcome"] == "YES" for r in common]
    summary: dict[str, Any] = {}
    skill: dict[str, Any] = {}
    for name in (SWARM, ALWAYS_HALF, OPENING):
        summary[name] = _summary_dict(summarize([r[name]["probability"] for r in common], outcomes))
    with_direct = [r for r in common if r[DIRECT]["probability"] is not None]
    note = None
    if len(with_direct) < len(common):
        note = (
            f"over the {len(with_direct)} of {len(common)} questions where the stack made a single "
            "forecast without simulation"
        )
    summary[DIRECT] = _summary_dict(
        summarize(
            [r[DIRECT]["probability"] for r in with_direct], [r["outcome"] == "YES" for r in with_direct]
        ),
        note=note,
    )
    for name in BASELINES:
        paired = with_direct if name == DIRECT else common
        result = brier_skill(
            [r[SWARM]["brier"] for r in paired],
            [r[name]["brier"] for r in paired],
            level=SKILL_LEVEL,
            seed=SKILL_SEED,
        )
        skill[name] = _skill_dict(result, len(paired))
    return summary, skill


def build_report(
    meta: Mapping[str, Any], questions: Sequence[Mapping[str, Any]], records: Mapping[str, Any]
) -> dict[str, Any]:
    """The whole report (what `<name>.json` holds). `meta`: name, tier, question set, times,
    versions; `questions`: the selection in order; `records`: the finished record by question id."""
    rows = [question_row(q, records.get(q["id"])) for q in questions]
    summary, skill = summaries(rows)
    statuses = [r["status"] for r in rows]
    backends: list[dict[str, Any]] = []
    for q in questions:
        backend = (records.get(q["id"]) or {}).get("backend")
        if isinstance(backend, dict) and backend not in backends:
            backends.append(backend)
    counts = {
        "questions": len(rows),
        "completed": statuses.count("completed"),
        "failed": statuses.count("failed"),
        "refused": statuses.count("refused"),
        "unfinished": statuses.count("unfinished"),
        "scored": summary[SWARM]["count"],
        "scored_direct": summary[DIRECT]["count"],
    }
    report: dict[str, Any] = {
        **meta,
        "complete": counts["unfinished"] == 0,
        "backend": backends[0] if len(backends) == 1 else (backends or None),
        "counts": counts,
        "forecasters": {name: LABELS[name] for name in FORECASTERS},
        "summary": summary,
        "skill": skill,
        "failures": [
            {"id": r["id"], "job_id": r["job_id"], "error": r["error"]}
            for r in rows
            if r["status"] == "failed"
        ],
        "refused": [{"id": r["id"], "message": r["error"]} for r in rows if r["status"] == "refused"],
        "questions": rows,
    }
    if meta.get("question_set", {}).get("source") == "forecastbench":
        report["forecastbench_reference"] = {
            "brier": {label: value for label, value in FORECASTBENCH_REFERENCE},
            "source": FORECASTBENCH_URL,
        }
    return report


# --- markdown ---------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3) -> str:
    """A number for a table: fixed digits, a true minus sign, 'n/a' for None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]  # no "-0.00"
    return text.replace("-", "−")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _questions(n: int) -> str:
    return "1 question" if n == 1 else f"{n} questions"


def skill_statement(baseline: str, entry: Mapping[str, Any]) -> str:
    """One plain sentence for the swarm's skill against one baseline, worded from the numbers."""
    name = BASELINE_NAMES[baseline]
    n = entry["count"]
    value, interval = entry["value"], entry["interval"]
    if n == 0:
        return f"Against {name}: no question has both forecasts, so no skill can be measured."
    if value is None:
        return (
            f"Against {name}: that baseline is perfect on these {_questions(n)}, so no skill can be measured."
        )
    level = f"{entry['level'] * 100:.0f}%"
    head = f"The swarm's Brier skill against {name} is {_num(value, SKILL_DIGITS)}"
    if interval is None:
        return f"{head} over {_questions(n)} (no bootstrap interval could be drawn)."
    # Judged on the numbers as printed, so the words never contradict them ("0.00 to 0.99").
    low, high, shown = (round(x, SKILL_DIGITS) for x in (interval[0], interval[1], value))
    span = f"({level} interval {_num(low, SKILL_DIGITS)} to {_num(high, SKILL_DIGITS)}, {_questions(n)})"
    if low > 0:
        verdict = f"better than {name}"
    elif high < 0:
        verdict = f"worse than {name}"
    elif shown <= 0:
        verdict = f"no better than {name}"
    else:
        verdict = f"ahead of {name} on these questions, but the interval includes 0: not reliably better"
    return f"{head} {span}: {verdict}."


def _summary_table(report: Mapping[str, Any]) -> list[str]:
    lines = [
        "| forecaster | n | Brier | log loss | ECE | sharpness |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in FORECASTERS:
        s = report["summary"][name]
        lines.append(
            f"| {LABELS[name]} | {s['count']} | {_num(s['brier'])} | {_num(s['log_loss'])} | "
            f"{_num(s['ece'])} | {_num(s['sharpness'])} |"
        )
    notes = [
        f"- {LABELS[n]}: {report['summary'][n]['note']}." for n in FORECASTERS if report["summary"][n]["note"]
    ]
    return lines + (["", *notes] if notes else [])


def _skill_table(report: Mapping[str, Any]) -> list[str]:
    level = f"{SKILL_LEVEL * 100:.0f}%"
    lines = [
        f"| baseline | n | Brier skill of the swarm | {level} interval |",
        "| --- | ---: | ---: | --- |",
    ]
    for name in BASELINES:
        e = report["skill"][name]
        interval = e["interval"]
        span = (
            f"{_num(interval[0], SKILL_DIGITS)} to {_num(interval[1], SKILL_DIGITS)}" if interval else "n/a"
        )
        lines.append(f"| {LABELS[name]} | {e['count']} | {_num(e['value'], SKILL_DIGITS)} | {span} |")
    return lines


def _questions_table(report: Mapping[str, Any]) -> list[str]:
    lines = [
        "| id | outcome | swarm | opening price | direct | Brier swarm | Brier opening | Brier direct "
        "| job | seconds | status |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in report["questions"]:
        swarm = r[SWARM]
        estimate = _pct(swarm["probability"])
        if swarm["probability"] is not None and swarm["interval"]:
            low, high = swarm["interval"]
            estimate += f" ({low * 100:.0f}–{high * 100:.0f}%)"
        status = r["status"] + (" (below)" if r["status"] in ("failed", "refused") else "")
        seconds = r["seconds"]
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    r["id"],
                    r["outcome"],
                    estimate,
                    _pct(r[OPENING]["probability"]),
                    _pct(r[DIRECT]["probability"]),
                    _num(swarm["brier"]),
                    _num(r[OPENING]["brier"]),
                    _num(r[DIRECT]["brier"]),
                    r["job_id"] if r["job_id"] is not None else "",
                    f"{seconds:.0f}" if isinstance(seconds, int | float) else "",
                    status,
                )
            )
            + " |"
        )
    return lines


def markdown(report: Mapping[str, Any]) -> str:
    counts = report["counts"]
    qset = report["question_set"]
    backend = report.get("backend")
    if isinstance(backend, dict):
        backend_text = str(backend.get("name") or "unknown") + (
            f" ({backend['model']})" if backend.get("model") else ""
        )
    elif isinstance(backend, list):
        backend_text = "several: " + ", ".join(
            str(b.get("name")) + (f" ({b['model']})" if b.get("model") else "") for b in backend
        )
    else:
        backend_text = "unknown (no question completed)"
    files = ", ".join(f"`{f['path']}` (sha256 {f['sha256'][:12]}…)" for f in qset["files"])
    out = [
        f"# Evaluation {report['name']}",
        "",
        f"- tier **{report['tier']}**, backend {backend_text}",
        f"- questions: {files}; {counts['questions']} asked"
        + (f" (the first {report['limit']})" if report.get("limit") else ""),
        f"- completed {counts['completed']}, failed {counts['failed']}, refused {counts['refused']}, "
        f"unfinished {counts['unfinished']}; scored {counts['scored']}",
        f"- run {report.get('started_at')} to {report.get('finished_at')}; swarmcast "
        f"{report.get('versions', {}).get('swarmcast')}",
    ]
    if not report["complete"]:
        out += [
            "",
            "**Partial report**: some questions have not finished; the scores cover the finished ones.",
        ]
    if qset.get("skipped"):
        out += [
            "",
            f"{len(qset['skipped'])} questions of the set were skipped when it was read (see the JSON).",
        ]
    out += ["", "## Scores", "", *_summary_table(report), ""]
    out += [
        "Lower is better for Brier, log loss and ECE; sharpness is the mean distance from 0.5. "
        "All forecasters are scored on the same questions (the single forecast only where it exists).",
        "",
        "## Skill of the swarm",
        "",
        *_skill_table(report),
        "",
        "Brier skill is 1 − Brier(swarm) / Brier(baseline): positive means the swarm is better. The "
        f"interval is a percentile bootstrap over questions ({SKILL_LEVEL * 100:.0f}%, fixed seed).",
        "",
        "## Result",
        "",
    ]
    out += [skill_statement(name, report["skill"][name]) for name in BASELINES]
    if 0 < counts["scored"] < FEW_QUESTIONS:
        out += ["", f"With {counts['scored']} scored questions these intervals are wide; read them as such."]
    reference = report.get("forecastbench_reference")
    if reference:
        swarm_brier = report["summary"][SWARM]["brier"]
        out += [
            "",
            "## ForecastBench reference",
            "",
            f"ForecastBench's published Brier scores ({reference['source']}) beside this run:",
            "",
            "| forecaster | Brier |",
            "| --- | ---: |",
            *[
                f"| {label} (ForecastBench) | {'' if label == 'always 0.5' else 'about '}{value:.2f} |"
                for label, value in FORECASTBENCH_REFERENCE
            ],
            f"| this run: swarm on tier {report['tier']} | {_num(swarm_brier)} |",
            "",
            "The published figures are over ForecastBench's full question sets; this run covers the "
            f"{counts['scored']} questions scored here, so the comparison is indicative.",
        ]
    out += ["", "## Questions", "", *_questions_table(report)]
    if report["failures"]:
        out += ["", "## Failures", ""]
        out += [f"- {_cell(f['id'])} (job {f['job_id']}): {_cell(f['error'])}" for f in report["failures"]]
    if report["refused"]:
        out += ["", "## Refused by the stack", ""]
        out += [f"- {_cell(f['id'])}: {_cell(f['message'])}" for f in report["refused"]]
    return "\n".join(out) + "\n"


# --- the reliability diagram ------------------------------------------------------------------------


def reliability_png(report: Mapping[str, Any], path: Path) -> None:
    """Observed frequency against mean forecast per bin for each forecaster, the diagonal, and the
    bin counts as a histogram below. Raises ImportError when matplotlib is not installed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(7, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1]}, constrained_layout=True
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    styles = {SWARM: "o-", ALWAYS_HALF: "s", OPENING: "^-", DIRECT: "d-"}
    n_bins = len(report["summary"][SWARM]["calibration"])
    width = 1.0 / max(n_bins, 1) / (len(FORECASTERS) + 1)
    for i, name in enumerate(FORECASTERS):
        s = report["summary"][name]
        points = [(b["mean_forecast"], b["observed"]) for b in s["calibration"] if b["count"]]
        label = f"{LABELS[name]} (n={s['count']}, Brier {_num(s['brier'])})"
        if points:
            xs, ys = zip(*points, strict=True)
            top.plot(xs, ys, styles[name], label=label, markersize=6)
        else:
            top.plot([], [], styles[name], label=f"{LABELS[name]} (no forecasts)")
        lowers = [b["lower"] + width * (i + 0.5) for b in s["calibration"]]
        bottom.bar(
            lowers, [b["count"] for b in s["calibration"]], width=width, align="edge", label=LABELS[name]
        )
    top.set_xlim(0, 1)
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("observed frequency of YES")
    top.set_title(f"Reliability: {report['name']} (tier {report['tier']})")
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    bottom.set_xlabel("forecast probability (bins of 0.1; points at the bin's mean forecast)")
    bottom.set_ylabel("questions")
    bottom.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- writing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    json_path: Path
    markdown_path: Path
    png_path: Path | None


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_outputs(report: Mapping[str, Any], out_dir: Path, name: str, err: TextIO | None = None) -> Written:
    """`<name>.json`, `<name>.md` and (with matplotlib) `<name>.png` in `out_dir`."""
    err = err or sys.stderr
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{name}.json"
    md_path = out_dir / f"{name}.md"
    _write_text(json_path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _write_text(md_path, markdown(report))
    png_path = out_dir / f"{name}.png"
    try:
        reliability_png(report, png_path)
    except ImportError:
        print(
            "swarmcast eval: matplotlib is not installed (pip install -e '.[eval]'); no reliability diagram",
            file=err,
        )
        return Written(json_path, md_path, None)
    return Written(json_path, md_path, png_path)


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """A few lines for the terminal at the end of a run."""
    lines = [f"{'forecaster':<32} {'n':>4} {'Brier':>7} {'log loss':>9} {'ECE':>7} {'sharp':>7}"]
    for name in FORECASTERS:
        s = report["summary"][name]
        lines.append(
            f"{LABELS[name]:<32} {s['count']:>4} {_num(s['brier']):>7} {_num(s['log_loss']):>9} "
            f"{_num(s['ece']):>7} {_num(s['sharpness']):>7}"
        )
    lines += [skill_statement(name, report["skill"][name]) for name in BASELINES]
    return lines
