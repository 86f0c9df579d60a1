"""Coalitions: the agents grouped by the camp their final belief puts them in, then split into
groups linked by follows (connected components of the follow graph within the camp).

A coalition is a group of two or more; agents who follow no one else in their camp are counted
as unaligned (and the first of them named). Only the MAX_COALITIONS largest coalitions are
described one by one - a sparse follow graph of a big run can fall apart into hundreds of pairs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .conventions import CAMP_LABELS, CAMPS, camp_of, r4
from .run import RunIndex

# Members listed in result_structured per coalition; the size is always the full count.
MAX_MEMBERS = 100
# Coalitions described one by one; smaller ones are only counted.
MAX_COALITIONS = 10
# Unaligned agents named per camp (all of them are counted).
MAX_UNALIGNED_NAMED = 25


@dataclass(frozen=True)
class Member:
    agent_id: int
    name: str
    probability: float


@dataclass(frozen=True)
class Coalition:
    id: str
    label: str
    camp: str
    size: int
    members: list[Member]
    members_truncated: bool
    mean_probability: float
    initial_mean_probability: float
    internal_follows: int
    density: float
    anchor_id: int
    anchor_name: str
    anchor_followers: int
    entities: list[str]
    # Net YES minus NO shares the members hold in the goal market (m1).
    net_goal_shares: float
    post_ids: list[int]


def components(members: list[int], adjacency: dict[int, set[int]]) -> list[list[int]]:
    """Connected components of the follow graph restricted to `members`, each sorted by id."""
    inside = set(members)
    seen: set[int] = set()
    out = []
    for start in sorted(members):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            comp.append(node)
            for nxt in adjacency.get(node, ()):
                if nxt in inside and nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        out.append(sorted(comp))
    return out


def coalitions(run: RunIndex) -> tuple[list[Coalition], dict[str, list[Member]], dict[str, int]]:
    """Agents grouped by final belief camp, then split into groups linked by follows; also the
    unaligned agents of each camp (named, capped) and their counts."""
    final_k = run.rounds
    adjacency: dict[int, set[int]] = defaultdict(set)
    for a, b in run.follows:
        if a != b:
            adjacency[a].add(b)
            adjacency[b].add(a)
    by_camp: dict[str, list[int]] = {c: [] for c in CAMPS}
    for agent_id in sorted(run.positions):
        by_camp[camp_of(run.prob_at(agent_id, final_k))].append(agent_id)

    groups: list[tuple[str, list[int]]] = []
    unaligned: dict[str, list[Member]] = {c: [] for c in CAMPS}
    unaligned_counts = dict.fromkeys(CAMPS, 0)
    for camp in CAMPS:
        for comp in components(by_camp[camp], adjacency):
            if len(comp) >= 2:
                groups.append((camp, comp))
            else:
                unaligned_counts[camp] += 1
                if len(unaligned[camp]) < MAX_UNALIGNED_NAMED:
                    unaligned[camp].append(_member(run, comp[0], final_k))
    groups.sort(key=lambda g: (-len(g[1]), CAMPS.index(g[0]), g[1][0]))
    # Follow edges inside each group, counted in one pass over the edges (not one per group).
    group_of = {agent: i for i, (_, comp) in enumerate(groups) for agent in comp}
    internal_follows = [0] * len(groups)
    for a, b in run.follows:
        if a != b and a in group_of and group_of[a] == group_of.get(b):
            internal_follows[group_of[a]] += 1
    out = [
        _coalition(run, i, camp, comp, internal_follows[i - 1])
        for i, (camp, comp) in enumerate(groups, start=1)
    ]
    return out, unaligned, unaligned_counts


def _coalition(run: RunIndex, i: int, camp: str, comp: list[int], internal: int) -> Coalition:
    """Coalition ``C{i}``: the agents ``comp`` of ``camp``, with ``internal`` follows among them."""
    final_k = run.rounds
    n = len(comp)
    anchor = max(comp, key=lambda a: (run.followers(a), -a))
    entities: list[str] = []
    for a in comp:
        ent = str(run.profiles.get(a, {}).get("entity_id", ""))
        if ent and ent not in entities:
            entities.append(ent)
    net = 0.0
    for a in comp:
        holding = (run.profiles.get(a, {}).get("holdings") or {}).get(run.goal_market_id) or {}
        net += float(holding.get("yes", 0.0)) - float(holding.get("no", 0.0))
    anchor_name = run.name(anchor)
    return Coalition(
        id=f"C{i}",
        label=f"{CAMP_LABELS[camp]} around {anchor_name}",
        camp=camp,
        size=n,
        members=[_member(run, a, final_k) for a in comp[:MAX_MEMBERS]],
        members_truncated=n > MAX_MEMBERS,
        mean_probability=r4(sum(run.prob_at(a, final_k) for a in comp) / n),
        initial_mean_probability=r4(sum(run.prob_at(a, 0) for a in comp) / n),
        internal_follows=internal,
        density=r4(internal / (n * (n - 1))),
        anchor_id=anchor,
        anchor_name=anchor_name,
        anchor_followers=run.followers(anchor),
        entities=_entity_names(run, entities),
        net_goal_shares=r4(net),
        post_ids=run.top_posts_of(comp, 2),
    )


def _member(run: RunIndex, agent_id: int, k: int) -> Member:
    return Member(agent_id=agent_id, name=run.name(agent_id), probability=r4(run.prob_at(agent_id, k)))


def _entity_names(run: RunIndex, entity_ids: list[str]) -> list[str]:
    """Entity ids -> names: an entity's name is that of its first agent (the entity itself)."""
    first: dict[str, str] = {}
    for agent_id in sorted(run.profiles):
        profile = run.profiles[agent_id]
        first.setdefault(str(profile["entity_id"]), str(profile["name"]))
    return [first.get(e, e) for e in entity_ids]
