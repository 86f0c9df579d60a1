"""Scripted report writers for tests/fakes/openai_server.py (its `responder` hook).

Each responder reads the facts the reporter put in the prompt and answers with the report JSON,
the way a model would: honestly, inventing ids, inventing numbers, or inventing ids only until it
is told off. `ReportLLM.bodies` keeps every request for assertions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FAKE_POST = 999_999
FAKE_TRADE = 888_888


def pct(p: float) -> str:
    return f"{p * 100:.1f}%"


def prompt_facts(body: dict[str, Any]) -> dict[str, Any]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return json.loads(user.removeprefix("Facts:\n").split("\n\n", 1)[0])


def is_retry(body: dict[str, Any]) -> bool:
    """The reporter's second request for the same report carries the first answer and its problems."""
    return len(body["messages"]) > 2


def headline(facts: dict[str, Any]) -> str:
    """The forecast as the prompt asks for it: '63.0% (80% interval 55.0-70.0%)'."""
    f = facts["forecast"]
    low, high = f["interval"]
    return f"{pct(f['probability'])} ({f['level'] * 100:.0f}% interval {low * 100:.1f}-{high * 100:.1f}%)"


def honest_report(facts: dict[str, Any]) -> dict[str, Any]:
    v, g, f = facts["verdict"], facts["goal"], facts["forecast"]
    first = facts["findings"][0]
    ref = f"[post #{first['post_ids'][0]}]" if first["post_ids"] else f"[trade #{first['trade_ids'][0]}]"
    return {
        "executive_summary": (
            f"LLM summary: the forecast is {headline(facts)}, from a mean price of {pct(f['market'])} and "
            f"stated beliefs of {pct(f['belief'])}, while agents in the quoted run sit at "
            f"{pct(g['probability'])}, as the debate shows {ref}."
        ),
        "verdict_sentence": f"LLM verdict: the goal is {v['label']} at {headline(facts)}.",
        "findings": [
            {
                "id": f["id"],
                "title": f"LLM {f['title']}",
                "text": "LLM finding: "
                + f["text"]
                + "".join(f" [post #{i}]" for i in f["post_ids"])
                + "".join(f" [trade #{i}]" for i in f["trade_ids"]),
            }
            for f in facts["findings"]
        ],
        "coalitions": f"LLM coalitions: {len(facts['coalitions'])} blocs formed around their anchors.",
        "market_commentary": (
            f"LLM markets: the goal market ended at {pct(facts['markets'][0]['final_price'])} in the quoted "
            f"run and averaged {pct(f['market'])} over the runs."
        ),
        "belief_dynamics": {
            p["name"]: (
                f"LLM {p['name']}: belief went from {pct(p['goal_probability_start'])} "
                f"to {pct(p['goal_probability_end'])}."
            )
            for p in facts["phases"]
        },
        "conclusion": (
            f"LLM conclusion: {v['label']} at {headline(facts)}, with agents at {pct(g['probability'])}."
        ),
        "key_insight": f"LLM insight: {headline(facts)} that the goal happens, so it is {v['label']}.",
        **({"what_if": what_if_text(facts["branch"])} if facts.get("branch") else {}),
    }


def what_if_text(branch: dict[str, Any]) -> str:
    """A what-if branch's comparison as a model would phrase it from the facts."""
    before, after = branch["before"], branch["after"]
    return (
        f"LLM what-if: the news moves the forecast from {pct(before['probability'])} to "
        f"{pct(after['probability'])} after job {branch['parent_job_id']}."
    )


@dataclass
class ReportLLM:
    """A responder: `mode` is honest, invents_ids, invents_ids_once, invents_numbers, buries_forecast
    (a key insight that does not lead with the forecast, a verdict that never states it),
    invents_interval (an interval the facts do not hold), invents_move (a what-if branch's
    comparison with a forecast the facts do not hold) or empty."""

    mode: str = "honest"
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, body: dict[str, Any], n: int) -> dict[str, Any]:
        self.bodies.append(body)
        report = honest_report(prompt_facts(body))
        if self.mode == "invents_ids" or (self.mode == "invents_ids_once" and not is_retry(body)):
            report["executive_summary"] += (
                f" Insiders agree [post #{FAKE_POST}] and traders too, see trade #{FAKE_TRADE}."
            )
            report["findings"][0]["text"] += f" [post #{FAKE_POST}]"
            report["conclusion"] += f" [post #{FAKE_POST}]"
        if self.mode == "invents_numbers":
            report["verdict_sentence"] = "LLM verdict: the goal is a lock at 97.3% on its market."
        if self.mode == "buries_forecast":
            report["key_insight"] = (
                f"LLM insight: the goal is {prompt_facts(body)['verdict']['label']}, say the agents."
            )
            report["verdict_sentence"] = "LLM verdict: the agents have spoken and the goal looks settled."
        if self.mode == "invents_interval":
            report["key_insight"] = (
                f"LLM insight: {pct(prompt_facts(body)['forecast']['probability'])} (80% interval 3.3-97.1%)."
            )
        if self.mode == "invents_move" and "what_if" in report:
            report["what_if"] = "LLM what-if: the news sends the forecast to 99.9%, a landslide."
        if self.mode == "empty":
            return {"note": "nothing to say"}
        return report
