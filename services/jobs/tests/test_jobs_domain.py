"""The pure domain of the jobs service: validation, pages, share tokens, event mapping, decisions."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from swarmcast.events.v1 import events_pb2

from services.common.config import REPO_ROOT
from services.common.questions import analyze_goal
from services.jobs.domain.artifacts import ARTIFACT_NAMES, artifact_key, checkpoint_key, job_prefix
from services.jobs.domain.dispatch import (
    DispatchJob,
    RouteSnapshot,
    UploadUrls,
    build_dispatch,
    dispatch_id,
    random_seed_for,
)
from services.jobs.domain.events import (
    KEY_INSIGHT_MAX,
    PROGRESS_STATUSES,
    Fail,
    Redispatch,
    last_sign_of_life,
    progress_change,
    reporter_completed_change,
    runner_completed_change,
    runner_failure_outcome,
    stale_limit_seconds,
    stale_outcome,
    stale_threshold_seconds,
)
from services.jobs.domain.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, resolve_page
from services.jobs.domain.sharing import is_well_formed_share_token, new_share_token
from services.jobs.domain.state_machine import JobStatus, allowed_sources
from services.jobs.domain.tier_settings import (
    DEFAULT_TIER_SETTINGS,
    SEEDED_TIER_SETTINGS,
    TierSettings,
    check_settings_update,
    settings_of,
)
from services.jobs.domain.validation import (
    DEFAULT_FORECAST_DAYS,
    MAX_GOAL_CHARS,
    MAX_SEED_CHARS,
    MIN_SEED_WORDS,
    SUGGESTION_LIMIT,
    JobFields,
    OpenEndedGoal,
    ValidationError,
    count_words,
    duplicate_lock_key,
    validate_draft,
    validate_job,
    validate_suggestion_request,
)
from services.jobs.tests.jobs_helpers import GOAL, SEED, progress, reporter_completed, runner_completed

TIERS = ("small", "medium", "large")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def fields(**kw: object) -> JobFields:
    values: dict[str, object] = {"seed_text": SEED, "goal": GOAL, "tier": "small"}
    values.update(kw)
    return JobFields(**values)  # type: ignore[arg-type]


# --- validation ---------------------------------------------------------------------------------


def test_valid_job_gets_defaults() -> None:
    spec = validate_job(fields(goal=f"  {GOAL}  "), TIERS)
    assert spec.goal == GOAL
    assert spec.forecast_days == DEFAULT_FORECAST_DAYS
    assert spec.enrich_web is True
    assert validate_job(fields(enrich_web=False, forecast_days=365), TIERS).enrich_web is False


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        ({"seed_text": ""}, "seed_text", "required"),
        ({"seed_text": "   \n\t "}, "seed_text", "required"),
        ({"seed_text": "x" * (MAX_SEED_CHARS + 1)}, "seed_text", "50,000"),
        ({"seed_text": "nul \x00 byte"}, "seed_text", "control characters"),
        ({"seed_text": "bell \x07"}, "seed_text", "control characters"),
        ({"goal": ""}, "goal", "required"),
        ({"goal": "   "}, "goal", "required"),
        ({"goal": None}, "goal", "required"),
        ({"goal": "g" * (MAX_GOAL_CHARS + 1)}, "goal", "too long"),
        ({"goal": "a\x00b"}, "goal", "control characters"),
        ({"tier": "huge"}, "tier", "large, medium, small"),
        ({"tier": ""}, "tier", "required"),
        ({"tier": "x" * 100}, "tier", "unknown tier"),
        ({"forecast_days": 0}, "forecast_days", "between 1 and 365"),
        ({"forecast_days": 366}, "forecast_days", "between 1 and 365"),
        ({"forecast_days": -5}, "forecast_days", "between 1 and 365"),
    ],
)
def test_invalid_input_names_the_field(overrides: dict[str, object], field: str, needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_job(fields(**overrides), TIERS)
    assert info.value.field == field
    assert needle in info.value.message


def test_boundaries_are_inclusive() -> None:
    longest = (SEED + " ") * (MAX_SEED_CHARS // (len(SEED) + 1))
    longest += "x" * (MAX_SEED_CHARS - len(longest))
    assert validate_job(fields(seed_text=longest, forecast_days=1), TIERS).forecast_days == 1
    # Tabs and newlines are ordinary text in a seed.
    assert validate_job(fields(seed_text=SEED.replace(". ", ".\n\t") + "\r\n"), TIERS)


def test_tier_is_matched_case_insensitively_to_its_canonical_name() -> None:
    assert validate_job(fields(tier=" Medium "), TIERS).tier == "medium"


def test_drafts_may_be_incomplete_but_not_invalid() -> None:
    assert validate_draft(JobFields(), TIERS) == JobFields()
    assert validate_draft(JobFields(goal="  ", tier=""), TIERS) == JobFields(goal="", tier="")
    with pytest.raises(ValidationError):
        validate_draft(JobFields(forecast_days=0), TIERS)
    with pytest.raises(ValidationError):
        validate_draft(JobFields(tier="nope"), TIERS)
    with pytest.raises(ValidationError):
        validate_draft(JobFields(seed_text="\x00"), TIERS)


def test_merged_replaces_only_given_fields() -> None:
    base = JobFields(seed_text="s", goal="g", tier="small", forecast_days=10)
    assert base.merged(JobFields(goal="h")) == JobFields(
        seed_text="s", goal="h", tier="small", forecast_days=10
    )


@given(st.text(max_size=200), st.text(max_size=200))
def test_validation_never_raises_anything_but_validation_error(text: str, goal: str) -> None:
    # Arbitrary text as the seed, and as the goal beside a seed long enough to reach the goal checks.
    for candidate in (fields(seed_text=text), fields(seed_text=f"{SEED} {text}", goal=goal)):
        try:
            spec = validate_job(candidate, TIERS)
        except OpenEndedGoal as refused:
            shown = refused.with_suggestions()
            assert shown.field == "goal" and shown.suggestions is not None
            continue
        except ValidationError:
            continue
        assert "\x00" not in spec.seed_text and spec.seed_text.strip() and spec.goal.strip()


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def test_a_seed_needs_thirty_words_of_evidence() -> None:
    assert count_words("Measure T's light-rail levy: 0.5% for 30 years — «approuvé», Σύμβουλοι") == 10
    assert count_words("市议会将于三月投票") == 9  # written without spaces: a word per character
    with pytest.raises(ValidationError) as refused:
        validate_job(fields(seed_text=words(MIN_SEED_WORDS - 1)), TIERS)
    assert refused.value.field == "seed_text"
    assert refused.value.message == (
        "seed_text is too short: 29 words; a forecast needs at least 30 words of evidence"
    )
    with pytest.raises(ValidationError, match="too short: 1 word;"):
        validate_job(fields(seed_text="Strike!"), TIERS)
    # Punctuation and spacing do not count as words.
    with pytest.raises(ValidationError, match="too short: 2 words"):
        validate_job(fields(seed_text="strike " + "— ... !! " * 200 + " ends"), TIERS)
    assert validate_job(fields(seed_text=words(MIN_SEED_WORDS)), TIERS).seed_text == words(MIN_SEED_WORDS)


DEMO_SEED = (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "goal",
    [
        "Predict sentiment about the levy",
        "What will happen to the Eastline?",
        "How do voters feel about Measure T?",
    ],
)
def test_an_open_ended_goal_is_refused_with_yes_no_questions_from_the_seed(goal: str) -> None:
    with pytest.raises(OpenEndedGoal) as refused:
        validate_job(fields(seed_text=DEMO_SEED, goal=goal), TIERS)
    assert refused.value.field == "goal" and refused.value.suggestions is None  # not read yet
    shown = refused.value.with_suggestions()
    assert shown.field == "goal"
    assert shown.description == analyze_goal(goal).reason  # why, in plain words
    assert shown.suggestions, "the demo seed names events a yes/no question can ask about"
    assert len(shown.suggestions) <= SUGGESTION_LIMIT
    assert shown.message.startswith(shown.description)
    for question in shown.suggestions:
        assert analyze_goal(question).is_yes_no, question
        assert question in shown.message  # the plain message names them too
        # A suggestion is a goal the service accepts.
        assert validate_job(fields(seed_text=DEMO_SEED, goal=question), TIERS).goal == question


def test_the_demo_goal_is_a_yes_no_question() -> None:
    goal = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
    assert validate_job(fields(seed_text=DEMO_SEED, goal=goal), TIERS).goal == goal


def test_drafts_hold_short_seeds_and_open_goals_until_launch() -> None:
    draft = validate_draft(JobFields(seed_text="a start", goal="Predict sentiment"), TIERS)
    assert (draft.seed_text, draft.goal) == ("a start", "Predict sentiment")
    with pytest.raises(ValidationError, match="too short"):
        validate_job(draft.merged(JobFields(tier="small")), TIERS)


def test_suggestion_requests_take_any_seed_an_optional_goal_and_a_horizon() -> None:
    request = validate_suggestion_request("a short seed", "  ", 0)
    assert (request.seed_text, request.goal, request.forecast_days) == ("a short seed", "", 30)
    for seed, goal, days, field in (
        ("", "", 0, "seed_text"),
        ("x" * (MAX_SEED_CHARS + 1), "", 0, "seed_text"),
        ("nul\x00", "", 0, "seed_text"),
        ("seed", "g" * (MAX_GOAL_CHARS + 1), 0, "goal"),
        ("seed", "a\x00b", 0, "goal"),
        ("seed", "", 366, "forecast_days"),
        ("seed", "", -1, "forecast_days"),
    ):
        with pytest.raises(ValidationError) as refused:
            validate_suggestion_request(seed, goal, days)
        assert refused.value.field == field


# --- tier settings ------------------------------------------------------------------------------


def test_tier_settings_updates_are_checked_and_only_set_fields_change() -> None:
    assert check_settings_update({}) == {}
    assert check_settings_update({"replicates": None, "market_subsidy": None}) == {}
    assert check_settings_update({"replicates": 32, "heuristic_replicates": 1, "market_subsidy": 10_000}) == {
        "replicates": 32,
        "heuristic_replicates": 1,
        "market_subsidy": 10_000.0,
    }
    for name, value in (
        ("replicates", 0),
        ("replicates", 33),
        ("heuristic_replicates", -1),
        ("market_subsidy", 0.0),
        ("market_subsidy", -5.0),
        ("market_subsidy", 10_000.5),
        ("market_subsidy", float("nan")),
        ("market_subsidy", float("inf")),
    ):
        with pytest.raises(ValidationError) as refused:
            check_settings_update({name: value})
        assert refused.value.field == name


def test_a_tier_without_settings_runs_with_the_defaults() -> None:
    assert settings_of(None) == DEFAULT_TIER_SETTINGS == TierSettings(1, 5, 15.0)
    assert SEEDED_TIER_SETTINGS["small"].replicates == 2


def test_duplicate_lock_key_is_stable_and_distinguishes_submissions() -> None:
    a = validate_job(fields(), TIERS)
    b = validate_job(fields(goal="Will the strike end by July?"), TIERS)
    assert duplicate_lock_key("1", a) == duplicate_lock_key("1", a)
    assert duplicate_lock_key("1", a) != duplicate_lock_key("2", a)
    assert duplicate_lock_key("1", a) != duplicate_lock_key("1", b)
    assert -(2**63) <= duplicate_lock_key("1", a) < 2**63


# --- pages and share tokens ---------------------------------------------------------------------


def test_pages() -> None:
    assert resolve_page(0, 0).per_page == DEFAULT_PER_PAGE
    assert resolve_page(3, 10).offset == 20
    assert resolve_page(1, MAX_PER_PAGE).per_page == MAX_PER_PAGE
    for page, per_page in ((1, MAX_PER_PAGE + 1), (1, -1), (-1, 10)):
        with pytest.raises(ValidationError):
            resolve_page(page, per_page)


def test_share_tokens_have_256_bits_and_a_checkable_shape() -> None:
    tokens = {new_share_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert is_well_formed_share_token(token)
        assert len(token) == 43  # 32 bytes, base64url without padding
    for bad in ("", "short", "x" * 44, "a" * 42 + "!", "a" * 42 + "\x00"):
        assert not is_well_formed_share_token(bad)


# --- event mapping ------------------------------------------------------------------------------


def test_progress_maps_stage_to_status_and_fields() -> None:
    event = progress(7, "run-1", 4, 3, round=2, enriched_seed="enriched")
    change = progress_change(event, NOW)
    assert change.target is JobStatus.RUNNING and change.move_if_legal
    assert change.guard == PROGRESS_STATUSES
    assert change.values["pipeline_stage"] == 3
    assert change.values["live_status"]["round"] == 2 and change.values["live_status"]["seq"] == 4
    assert change.values["live_status"]["posts"] == 12  # the runner's own snapshot is kept
    assert change.values["enriched_seed"] == "enriched"
    assert change.values["last_heartbeat"] == event.sent_at.ToDatetime(tzinfo=UTC)
    assert progress_change(progress(7, "r", 1, 0), NOW).target is JobStatus.PROVISIONING


def test_progress_without_timestamp_uses_receipt_time_and_strips_nul() -> None:
    event = events_pb2.RunnerProgress(
        job_id=1, run_id="r", stage=9, seq=1, stage_name="bad\x00name", pod_id="p\x00"
    )
    change = progress_change(event, NOW)
    assert change.values["last_heartbeat"] == NOW
    assert change.values["pipeline_stage"] == 4  # clamped: the runner reports 0..4
    assert change.values["live_status"]["stage_name"] == "badname"
    assert change.values["pod_id"] == "p"


def test_runner_completed_restates_every_progress_field() -> None:
    change = runner_completed_change(runner_completed(3, "r"), sim_data_available=True, received_at=NOW)
    assert change.target is JobStatus.REPORTING and change.guard == allowed_sources(JobStatus.REPORTING)
    progress_fields = set(progress_change(progress(3, "r", 2, 1, enriched_seed="e"), NOW).values)
    progress_fields |= {"markets_config", "provision_seconds", "enrichment_citations"}
    assert progress_fields <= set(change.values)
    assert change.values["pipeline_stage"] == 5
    assert change.values["provision_seconds"] == 2 and change.values["pipeline_seconds"] == 10
    assert change.values["sim_data_available"] is True


def test_reporter_completed_truncates_key_insight() -> None:
    change = reporter_completed_change(reporter_completed(3, "r"), received_at=NOW)
    assert change.target is JobStatus.COMPLETED and change.guard == frozenset({JobStatus.REPORTING})
    assert len(change.values["key_insight"]) == KEY_INSIGHT_MAX
    assert change.values["key_insight"].endswith("…")


def test_runner_failure_outcomes() -> None:
    transient, permanent = events_pb2.FAILURE_KIND_TRANSIENT, events_pb2.FAILURE_KIND_PERMANENT
    assert isinstance(runner_failure_outcome(transient, "oom", retry_count=0, retry_budget=2), Redispatch)
    spent = runner_failure_outcome(transient, "oom", retry_count=2, retry_budget=2)
    assert isinstance(spent, Fail) and "3 attempts" in spent.message and "oom" in spent.message
    assert isinstance(runner_failure_outcome(permanent, "bad", retry_count=0, retry_budget=2), Fail)
    unknown = runner_failure_outcome(events_pb2.FAILURE_KIND_UNSPECIFIED, "", retry_count=0, retry_budget=2)
    assert isinstance(unknown, Fail) and "no reason given" in unknown.message


def test_staleness() -> None:
    assert stale_threshold_seconds("small", 100) == 100
    assert stale_threshold_seconds("large", 100) == 200
    assert stale_threshold_seconds("custom", 100) == 200
    assert stale_limit_seconds(JobStatus.REPORTING, "small", 100) == 500
    t = NOW
    assert last_sign_of_life(t, None, None) == t
    assert last_sign_of_life(t, t + timedelta(seconds=5), t + timedelta(seconds=9)) == t + timedelta(
        seconds=9
    )
    assert isinstance(
        stale_outcome(JobStatus.RUNNING, retry_count=1, retry_budget=2, threshold_seconds=1), Redispatch
    )
    spent = stale_outcome(JobStatus.RUNNING, retry_count=2, retry_budget=2, threshold_seconds=120)
    assert isinstance(spent, Fail) and "stopped responding" in spent.message and "120s" in spent.message
    reporting = stale_outcome(JobStatus.REPORTING, retry_count=0, retry_budget=2, threshold_seconds=10)
    assert isinstance(reporting, Fail) and "report" in reporting.message


# --- dispatch -----------------------------------------------------------------------------------


def test_dispatch_message_carries_everything_a_runner_needs() -> None:
    route = RouteSnapshot(
        "small", "Qwen/Qwen3-14B", "NVIDIA L40S", 15, 10, "--max-model-len 16384",
        replicates=3, heuristic_replicates=7, market_subsidy=42.5,
    )  # fmt: skip
    upload = UploadUrls(
        bucket="b",
        prefix=job_prefix(42),
        put_urls={name: f"http://s3/{artifact_key(42, name)}" for name in ARTIFACT_NAMES},
        checkpoint_put_url=f"http://s3/{checkpoint_key(42)}?put",
        checkpoint_get_url=f"http://s3/{checkpoint_key(42)}?get",
        expires_at=NOW + timedelta(days=7),
    )
    job = DispatchJob(42, "seed", "goal", "small", True, 30, markets=[{"id": "m1"}])
    message = build_dispatch(job, route=route, run_id="run-9", attempt=2, resume=True, upload=upload, now=NOW)
    assert message.dispatch_id == dispatch_id(42) == "sim-42"
    assert message.run_id == "run-9" and message.attempt == 2 and message.resume
    assert message.route.max_rounds == 15 and message.route.vllm_args == "--max-model-len 16384"
    assert set(message.upload.put_urls) == set(ARTIFACT_NAMES)
    assert message.upload.prefix == "sim-data/42/"
    assert message.random_seed == random_seed_for(42) != random_seed_for(43)
    assert message.markets.values[0].struct_value["id"] == "m1"
    assert (message.route.replicates, message.route.heuristic_replicates) == (3, 7)
    assert message.route.market_subsidy == 42.5
    assert RouteSnapshot.from_proto(message.route) == route


def test_a_stored_route_snapshot_keeps_its_settings_and_an_old_one_gets_the_defaults() -> None:
    route = RouteSnapshot(
        "small", "m", "g", 15, 10, "", replicates=4, heuristic_replicates=9, market_subsidy=3.5
    )
    assert RouteSnapshot.from_stored(asdict(route)) == route
    # A run stored before tier settings existed (migration 0004) is re-dispatched with the defaults.
    old = {"sim_tier": "small", "model_id": "m", "gpu_type": "g", "max_rounds": 15, "target_agents": 10,
           "vllm_args": ""}  # fmt: skip
    restored = RouteSnapshot.from_stored(old)
    assert (restored.replicates, restored.heuristic_replicates, restored.market_subsidy) == (1, 5, 15.0)
