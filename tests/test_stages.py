"""The stage rules as pure functions: which changes a lead may make (no I/O)."""

from __future__ import annotations

import itertools

import pytest

from campaign.core.vocab import CLOSE_REASON_LABELS, CLOSE_REASONS, OPEN_STAGES, STAGE_LABELS
from campaign.portal.stages import check, targets

NEU, KONTAKTIERT, TERMIN, VOR_ORT, UMZUG, ZUGEZOGEN, GEBLIEBEN = OPEN_STAGES


def test_the_stages_lead_to_the_campaigns_goal_in_order_with_german_labels():
    assert OPEN_STAGES == ("neu", "kontaktiert", "termin_vereinbart", "vor_ort",
                           "umzug_geplant", "zugezogen", "geblieben")
    assert [STAGE_LABELS[s].message for s in (*OPEN_STAGES, "geschlossen")] == [
        "neu", "kontaktiert", "Gespräch oder Besuch vereinbart",
        "vor Ort (Besuch oder Probewohnen)", "Umzug geplant", "zugezogen",
        "nach 12 Monaten noch hier", "geschlossen"]
    assert [CLOSE_REASON_LABELS[r].message for r in CLOSE_REASONS] == [
        "anderen Ort gewählt", "Pläne geändert", "keine Antwort", "anderes"]


@pytest.mark.parametrize("current, target", list(itertools.combinations(OPEN_STAGES, 2)))
def test_forward_is_allowed_by_any_number_of_stages(current, target):
    assert check(current, target) is None


@pytest.mark.parametrize("current, target", list(zip(OPEN_STAGES[1:], OPEN_STAGES, strict=False)))
def test_back_by_one_stage_is_allowed_to_correct(current, target):
    assert check(current, target) is None


@pytest.mark.parametrize("current, target", [
    (a, b) for a, b in itertools.permutations(OPEN_STAGES, 2)
    if OPEN_STAGES.index(b) < OPEN_STAGES.index(a) - 1])
def test_back_by_more_than_one_stage_is_refused_naming_the_one_step(current, target):
    refused = check(current, target)
    assert refused is not None
    one_back = OPEN_STAGES[OPEN_STAGES.index(current) - 1]
    assert refused.params == {"stage": STAGE_LABELS[one_back].message}
    assert "nur um einen Stand" in refused.message


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_the_same_stage_again_is_refused(stage):
    refused = check(stage, stage)
    assert refused is not None and refused.params == {"stage": STAGE_LABELS[stage].message}


@pytest.mark.parametrize("stage", OPEN_STAGES)
@pytest.mark.parametrize("reason", CLOSE_REASONS)
def test_closing_is_allowed_from_every_open_stage_with_a_reason(stage, reason):
    assert check(stage, "geschlossen", reason) is None


@pytest.mark.parametrize("reason", ["", "kein_interesse", "anderer Ort"])
def test_closing_without_a_known_reason_is_refused(reason):
    refused = check(KONTAKTIERT, "geschlossen", reason)
    assert refused is not None and "Grund" in refused.message


def test_a_closed_lead_reopens_only_at_the_stage_it_was_closed_from():
    assert check("geschlossen", VOR_ORT, reopen_to=VOR_ORT) is None
    for other in OPEN_STAGES:
        if other != VOR_ORT:
            refused = check("geschlossen", other, reopen_to=VOR_ORT)
            assert refused is not None
            assert refused.params == {"stage": "vor Ort (Besuch oder Probewohnen)"}
    assert check("geschlossen", "geschlossen", "anderes") is not None


@pytest.mark.parametrize("target", ["", "besuch_geplant", "kein_interesse", "GESCHLOSSEN",
                                    "neu ", "zugezogen\x00"])
def test_unknown_stages_are_refused(target):
    assert check(NEU, target) is not None


def test_an_unknown_stored_stage_can_only_be_closed():
    assert check("besuch_geplant", KONTAKTIERT) is not None
    assert check("besuch_geplant", "geschlossen", "anderes") is None


def test_the_form_offers_exactly_the_allowed_open_stages():
    assert targets(NEU) == list(OPEN_STAGES[1:])
    assert targets(UMZUG) == [VOR_ORT, ZUGEZOGEN, GEBLIEBEN]
    assert targets(GEBLIEBEN) == [ZUGEZOGEN]
    assert targets("geschlossen", reopen_to=TERMIN) == [TERMIN]
