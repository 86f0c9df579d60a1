"""report.md: the writer's prose around tables and evidence rendered straight from the facts.

Sections (level-2 headings, in this order): Executive Summary, Verdict, Key Findings, Agent
Coalitions, Market Analysis, Belief Dynamics, Conclusion; a what-if branch's report opens (right
after the title) with the What-if comparison. Probabilities and prices are printed
from the facts, never from prose, so the Verdict table always equals market_curves.json's
forecast (each market's probability with its interval).
"""

from __future__ import annotations

from services.reporter import fmt
from services.reporter.citations import cited_ids
from services.reporter.facts import (
    CAMP_LABELS,
    HEURISTIC_NOTE,
    BranchFacts,
    Coalition,
    MarketFacts,
    NewsEvent,
    PhaseFacts,
    ReportFacts,
    Stakeholder,
    low_evidence_note,
    parent_missing_note,
)
from services.reporter.writers.base import WrittenReport

SECTIONS: tuple[str, ...] = (
    "Executive Summary",
    "Verdict",
    "Key Findings",
    "Agent Coalitions",
    "Market Analysis",
    "Belief Dynamics",
    "Conclusion",
)
WHAT_IF = "What-if comparison"
# Members named per coalition in the report (the structured results hold up to facts.MAX_MEMBERS).
NAMED_MEMBERS = 12


def cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def _post_line(facts: ReportFacts, post_id: int) -> str:
    post = facts.evidence_posts.get(post_id)
    if post is None:
        return fmt.cite([post_id])
    return f"{fmt.quote(post.text)} — {post.author}, round {post.round} {fmt.cite([post_id])}"


def render(facts: ReportFacts, written: WrittenReport) -> str:
    """The whole report.md."""
    prose = written.prose
    s, g, v = facts.scale, facts.goal, facts.verdict
    out: list[str] = [f"# Forecast report: {fmt.plain(g.goal)}", ""]
    if facts.branch is not None:
        out += _what_if(facts, facts.branch, prose.what_if)
    backend = facts.backend.name + (f" ({facts.backend.model})" if facts.backend.model else "")
    out += [
        f"*Job {facts.job_id} · run {facts.run_id} · {fmt.count(s.agents, 'agent')} × "
        f"{fmt.count(s.rounds, 'round')} over a {s.forecast_days}-day horizon · "
        f"{fmt.count(s.replicates, 'replicate run')} · "
        f"{fmt.count(s.posts, 'post')} · {fmt.count(s.trades, 'trade')} · {backend} backend · "
        f"written by the {written.writer} writer*",
        "",
    ]
    if facts.backend.heuristic:
        out += [f"> **Heuristic backend.** {HEURISTIC_NOTE}", ""]

    out += ["## Executive Summary", "", prose.executive_summary, ""]

    # --- Verdict
    f = facts.forecast
    out += ["## Verdict", "", f"**{prose.verdict_sentence}**", ""]
    if facts.evidence is not None and facts.evidence.low_evidence:
        out += [f"> **{low_evidence_note(facts.evidence, f)}**", ""]
    runs = "a single run" if f.replicates == 1 else f"{f.replicates} replicate runs"
    out += [
        f"- **Forecast for the goal ({v.market_id}):** {fmt.estimate(f.probability, f.interval, f.level)}, "
        f"rated {v.label}, from {runs}.",
        f"- **How it was made:** {fmt.end(f.method) + ' ' if f.method else ''}"
        + (
            f"The market price averaged {fmt.pct(f.market)} and the agents' stated beliefs "
            f"{fmt.pct(f.belief)} over the runs."
            if f.replicates > 1
            else f"The market price ended at {fmt.pct(f.market)} and the agents' stated beliefs at "
            f"{fmt.pct(f.belief)}."
        ),
    ]
    if facts.evidence is not None:
        out.append(_evidence_line(facts))
    baseline = _baseline_line(facts)
    if baseline:
        out.append(baseline)
    out += [
        f"- **Agents' belief at the end of the {'run' if f.replicates == 1 else 'quoted run'}:** "
        f"{fmt.pct(g.probability)}, spread ±{fmt.pts(g.spread, signed=False)} across "
        f"{fmt.count(g.agents, 'agent')} (10th percentile {fmt.pct(g.p10)}, median {fmt.pct(g.p50)}, "
        f"90th percentile {fmt.pct(g.p90)}).",
        "",
    ]
    out += _table(verdict_header(f.level), [_verdict_row(m) for m in facts.markets])
    out.append("")

    # --- Key findings
    out += ["## Key Findings", ""]
    for i, finding in enumerate(facts.findings, start=1):
        text = prose.finding_texts.get(finding.id, finding.text).strip()
        title = prose.finding_titles.get(finding.id, finding.title).strip().rstrip(".")
        in_text_posts, in_text_trades = cited_ids(text)
        # The finding's own evidence is always listed (ids the text has not cited already).
        evidence = fmt.cite(
            [p for p in finding.post_ids if p not in in_text_posts],
            [t for t in finding.trade_ids if t not in in_text_trades],
        )
        line = f"{i}. **{title}.** {text}"
        if evidence:
            line += f" Evidence: {evidence}"
        elif not (finding.post_ids or finding.trade_ids or in_text_posts or in_text_trades):
            line += " (No post or trade to cite: the run had too little activity.)"
        out.append(line)
    out.append("")

    # --- Coalitions
    out += ["## Agent Coalitions", "", prose.coalitions, ""]
    for c in facts.coalitions:
        out += _coalition(c, facts)
    loners = {camp: members for camp, members in facts.unaligned.items() if members}
    if loners:
        out += ["### Unaligned agents", ""]
        for camp, members in loners.items():
            total = facts.unaligned_counts[camp]
            names = ", ".join(
                f"{m.name} (agent {m.agent_id}, {fmt.pct(m.probability)})" for m in members[:NAMED_MEMBERS]
            )
            more = f" and {total - min(len(members), NAMED_MEMBERS)} more" if total > NAMED_MEMBERS else ""
            out.append(f"- **{CAMP_LABELS[camp]}:** {names}{more}")
        out.append("")
    if facts.stakeholders:
        out += ["### Stakeholder positions", ""]
        out += _table(STAKEHOLDER_HEADER, [_stakeholder_row(st) for st in facts.stakeholders])
        out.append("")

    # --- Market analysis
    out += ["## Market Analysis", "", prose.market_commentary, ""]
    if any(m.resolution for m in facts.markets):
        out += ["### How the markets resolve", ""]
        out += [
            f"- **{m.id}** {fmt.plain(m.question)} — {m.resolution or 'no resolution criterion recorded.'}"
            for m in facts.markets
        ]
        out.append("")
    out += _table(MARKET_HEADER, [_market_row(m) for m in facts.markets])
    out += ["", "### Largest moves", ""]
    if not facts.moves:
        out += ["No market moved by half a point or more in a single round.", ""]
    for mv in facts.moves:
        line = (
            f"- **{mv.market_id}, round {mv.round} ({fmt.day(mv.day)}, {mv.phase} phase):** "
            f"{fmt.pct(mv.price_before)} → {fmt.pct(mv.price_after)} ({fmt.pts(mv.delta)}) on "
            f"{fmt.num(mv.volume_cash)} in cash"
        )
        if mv.trade_ids:
            line += f"; biggest trades {fmt.cite((), mv.trade_ids)} by {', '.join(mv.traders)}"
        out.append(fmt.end(line))
        for post_id in mv.post_ids:
            out.append(f"  - {_post_line(facts, post_id)}")
    out += ["", "### Volume", ""]
    phase_volume = " · ".join(
        f"{p.name} {fmt.num(p.volume_cash)}" for p in facts.phases if p.start_round is not None
    )
    out.append(
        f"{fmt.num(s.volume_cash)} in cash and {fmt.num(s.volume_shares)} shares over {s.trades} trades"
        + (f"; by phase: {phase_volume}." if phase_volume else ".")
    )
    for label, trader in (("Best", facts.best_trader), ("Worst", facts.worst_trader)):
        if trader is not None:
            out.append(
                f"- **{label} trading result:** {trader.name} ({trader.pnl:+.2f} in cash over "
                f"{trader.trades} trades) {fmt.cite((), trader.trade_ids)}".rstrip()
            )
    out.append("")

    # --- Belief dynamics
    out += ["## Belief Dynamics", ""]
    if facts.events:
        out += _table([*PHASE_HEADER, "News"], [[*_phase_row(p), _news_cell(p.events)] for p in facts.phases])
    else:
        out += _table(PHASE_HEADER, [_phase_row(p) for p in facts.phases])
    out.append("")
    for p in facts.phases:
        out += [f"**{p.name}.** {prose.belief_dynamics.get(p.name, '').strip()}", ""]
    if facts.quotes:
        out += ["### Voices from the run", ""]
        for q in facts.quotes:
            out.append(
                f"- {fmt.quote(q.text, 240)} — {q.author}, round {q.round} ({fmt.day(q.day)}, {q.phase}), "
                f"stance {q.stance:+.2f} {fmt.cite([q.post_id])}"
            )
        out.append("")

    out += ["## Conclusion", "", prose.conclusion, ""]
    # The heuristic note is said at the top, the low-evidence one in the Verdict.
    said = {HEURISTIC_NOTE}
    if facts.evidence is not None and facts.evidence.low_evidence:
        said.add(low_evidence_note(facts.evidence, facts.forecast))
    notes = [n for n in facts.notes if n not in said]
    if notes:
        out += ["### Notes", ""]
        out += [f"- {n}" for n in notes]
        out.append("")
    out += [
        "---",
        "",
        "*Citations in brackets (post and trade numbers) refer to the ids in posts.json and trades.json of "
        "this job's simulation data.*",
        "",
    ]
    return "\n".join(out)


def verdict_header(level: float) -> list[str]:
    """The Verdict table: the forecast and its interval first; means over the replicate runs."""
    return [
        "Market", "Question", "Forecast", fmt.level_name(level).capitalize(), "Market price (mean)",
        "Stated belief (mean)", "Opened at",
    ]  # fmt: skip


STAKEHOLDER_HEADER = ["Stakeholder", "Kind", "Agents", "Start", "End", "Shift", "Camp", "Posts", "Trades"]
MARKET_HEADER = [
    "Market", "Open", "Close", "Change", "High (round)", "Low (round)", "Trades", "Volume (cash)",
    "Volume (shares)",
]  # fmt: skip
PHASE_HEADER = [
    "Phase", "Days", "Rounds", "Agents' belief", "Spread", "Goal market",
    "Camps at end (YES / undecided / NO)", "Posts", "Trades",
]  # fmt: skip


def _verdict_row(m: MarketFacts) -> list[str]:
    name = m.id + (" (goal)" if m.is_goal else "")
    return [
        name,
        fmt.plain(m.question),
        fmt.pct(m.probability),
        fmt.interval(m.interval),
        fmt.pct(m.forecast_market),
        fmt.pct(m.forecast_belief),
        fmt.pct(m.initial_price),
    ]


def _evidence_line(facts: ReportFacts) -> str:
    e = facts.evidence
    assert e is not None
    line = (
        f"- **Evidence read from the seed:** {fmt.count(e.stakeholders, 'stakeholder')} and "
        f"{fmt.count(e.item_count, 'item')} of evidence, giving a prior of {fmt.pct(e.prior)} for the goal"
    )
    strongest = [i for i in e.items[:3] if i.text]
    if strongest:
        line += "; the strongest: " + "; ".join(f"{fmt.quote(i.text, 140)} ({i.kind})" for i in strongest)
    return fmt.end(line)


def _baseline_line(facts: ReportFacts) -> str:
    """One sentence comparing the forecast with a single forecast without simulation ("" when the
    artifacts carry none)."""
    b = facts.baselines
    d = b.direct if b is not None else None
    if d is None or d.probability is None:
        return ""
    if d.source == "heuristic_prior":
        how = "the seed's evidence alone (the prior the agents started from)"
    else:
        how = "a single reading of the seed by the same model"
    gap = facts.forecast.probability - d.probability
    if round(abs(gap) * 100, 1) == 0.0:
        compared = "the same as the forecast"
    else:
        compared = f"{fmt.pts(gap, signed=False)} {'below' if gap > 0 else 'above'} the forecast"
    return f"- **Without the simulation:** {how} put the goal at {fmt.pct(d.probability)}, {compared}."


def _stakeholder_row(st: Stakeholder) -> list[str]:
    return [
        st.name,
        st.kind,
        str(st.agents),
        fmt.pct(st.initial_probability),
        fmt.pct(st.final_probability),
        fmt.pts(st.shift),
        CAMP_LABELS[st.stance],
        str(st.posts),
        str(st.trades),
    ]


def _market_row(m: MarketFacts) -> list[str]:
    return [
        m.id,
        fmt.pct(m.initial_price),
        fmt.pct(m.final_price),
        fmt.pts(m.change),
        f"{fmt.pct(m.high)} ({m.high_round})",
        f"{fmt.pct(m.low)} ({m.low_round})",
        str(m.trades),
        fmt.num(m.volume_cash),
        fmt.num(m.volume_shares),
    ]


def _phase_row(p: PhaseFacts) -> list[str]:
    if p.start_round is None:
        rounds = "—"
    elif p.start_round == p.end_round:
        rounds = str(p.start_round)
    else:
        rounds = f"{p.start_round}–{p.end_round}"
    return [
        p.name,
        f"{fmt.num(round(p.start_day, 1))}–{fmt.num(round(p.end_day, 1))}",
        rounds,
        f"{fmt.pct(p.goal_probability_start)} → {fmt.pct(p.goal_probability_end)}",
        f"{fmt.pts(p.spread_start, signed=False)} → {fmt.pts(p.spread_end, signed=False)}",
        f"{fmt.pct(p.market_start)} → {fmt.pct(p.market_end)}",
        f"{p.camps_end['yes']} / {p.camps_end['undecided']} / {p.camps_end['no']}",
        str(p.posts),
        str(p.trades),
    ]


def _news_cell(events: list[NewsEvent]) -> str:
    """The phase table's News cell: 'day 15: “Port reopens” (favours YES)'; '—' for none."""
    if not events:
        return "—"
    return "; ".join(f"day {ev.day}: {fmt.quote(ev.headline, 80)} ({ev.favours_label})" for ev in events)


def _maybe_pct(p: float | None) -> str:
    return fmt.pct(p) if p is not None else "—"


def _what_if(facts: ReportFacts, b: BranchFacts, prose: str) -> list[str]:
    """The What-if comparison: the writer's paragraph, then the injected news and the before /
    after tables, rendered from the facts."""
    out = [f"## {WHAT_IF}", ""]
    out += [
        f"*What-if branch of job {b.parent_job_id} after round {b.round} ({fmt.day(b.round_day)} of "
        f"{facts.scale.forecast_days}).*",
        "",
    ]
    if prose.strip():
        out += [prose.strip(), ""]
    out += ["### Injected news", ""]
    if b.events:
        for ev in b.events:
            line = (
                f"- **Day {ev.day} (round {ev.round}, {ev.phase} phase):** "
                f"{fmt.quote(ev.headline, 200)} ({ev.favours_label})"
            )
            out.append(line + (f" — {fmt.quote(ev.text, 400)}" if ev.text else ""))
    else:
        out.append("- None: the branch resumed from the parent's state with no new news.")
    if not b.parent_artifacts and b.events:
        out += [
            "",
            f"*Without the parent's artifacts its own scheduled news cannot be told from the injected: "
            f"all news after round {b.round} is listed.*",
        ]
    out.append("")
    before = fmt.estimate(b.before.probability, b.before.interval, b.before.level) if b.before else "unknown"
    after = fmt.estimate(b.after.probability, b.after.interval, b.after.level)
    move = fmt.pts(b.delta) if b.delta is not None else "—"
    out += _table(
        ["Goal forecast", f"Before (job {b.parent_job_id})", "After (this branch)", "Move"],
        [[f"{facts.forecast.market_id} (goal)", before, after, move]],
    )
    out += ["", "### Beliefs by camp", ""]
    if not b.parent_artifacts:
        out += [f"> {parent_missing_note(b)}", ""]
    out += _table(
        ["Camp", "Agents before", "Agents after", "Mean belief before", "Mean belief after"],
        [
            [
                CAMP_LABELS[c.camp],
                str(c.before_agents) if c.before_agents is not None else "—",
                str(c.after_agents),
                _maybe_pct(c.before_mean),
                _maybe_pct(c.after_mean),
            ]
            for c in b.camps
        ],
    )
    out += ["", "### Market moves", ""]
    questions = {m.id: m.question for m in facts.markets}
    out += _table(
        ["Market", "Question", "Before", "After", "Move"],
        [
            [
                m.market_id,
                fmt.plain(questions.get(m.market_id, "")),
                _maybe_pct(m.before),
                fmt.pct(m.after),
                fmt.pts(m.after - m.before) if m.before is not None else "—",
            ]
            for m in b.markets
        ],
    )
    out.append("")
    return out


def _coalition(c: Coalition, facts: ReportFacts) -> list[str]:
    named = ", ".join(
        f"{m.name} (agent {m.agent_id}, {fmt.pct(m.probability)})" for m in c.members[:NAMED_MEMBERS]
    )
    more = c.size - min(len(c.members), NAMED_MEMBERS)
    lines = [
        f"### {c.id} · {c.label} ({c.size} agents)",
        "",
        f"- **Belief:** {fmt.pct(c.mean_probability)} on average "
        f"(started at {fmt.pct(c.initial_mean_probability)})",
        f"- **Follow ties inside:** {c.internal_follows} (density {c.density:.2f}); "
        f"anchor {c.anchor_name} with {c.anchor_followers} followers",
        f"- **Stakeholders represented:** {', '.join(c.entities) or '—'}",
        f"- **Goal-market position:** net {fmt.num(abs(c.net_goal_shares))} "
        f"{'YES' if c.net_goal_shares >= 0 else 'NO'} shares",
        f"- **Members:** {named}" + (f" and {more} more" if more > 0 else ""),
    ]
    for post_id in c.post_ids:
        lines.append(f"- **Voice:** {_post_line(facts, post_id)}")
    lines.append("")
    return lines
