"""Routing rules: a pure function of the lead's choices and the content."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from campaign.leads.routing import Recipient, route

from .support.app import shipped_content

ALL = ("municipalities", "tourism", "skilled_workers", "agency")


def region():
    return shipped_content().region


def test_each_chosen_municipality_and_its_tourism_association():
    got = route(["winterberg", "siegen"], [], ALL, region())
    assert got == [
        Recipient("winterberg", "municipality"),
        Recipient("siegen", "municipality"),
        Recipient("sauerland-tourismus", "tourism"),
        Recipient("tvsw", "tourism"),
    ]


def test_tourism_association_once_for_several_municipalities():
    # Winterberg (HSK), Olpe (Kreis Olpe) and Soest (Kreis Soest) are all Sauerland-Tourismus.
    got = route(["winterberg", "olpe", "soest"], [], ALL, region())
    tourism = [r for r in got if r.reason == "tourism"]
    assert tourism == [Recipient("sauerland-tourismus", "tourism")]
    assert [r.org for r in got] == ["winterberg", "olpe", "soest", "sauerland-tourismus"]


def test_a_municipality_chosen_twice_is_routed_once():
    got = route(["olpe", "olpe"], [], ALL, region())
    assert [r.org for r in got] == ["olpe", "sauerland-tourismus"]


def test_skilled_workers_only_with_medicine_and_care_interest():
    with_interest = route(["brilon"], ["medizin_pflege", "natur"], ALL, region())
    assert Recipient("fachkraefte", "skilled_workers") in with_interest
    without = route(["brilon"], ["natur", "wohnen"], ALL, region())
    assert all(r.reason != "skilled_workers" for r in without)


def test_agency_is_the_fallback_when_no_municipality_was_chosen():
    assert route([], ["natur"], ALL, region()) == [
        Recipient("suedwestfalen-agentur", "fallback")]
    # … and not a recipient when municipalities were chosen
    assert all(r.org != "suedwestfalen-agentur" for r in route(["olpe"], [], ALL, region()))


def test_fallback_and_skilled_workers_together():
    got = route([], ["medizin_pflege"], ALL, region())
    assert got == [Recipient("fachkraefte", "skilled_workers"),
                   Recipient("suedwestfalen-agentur", "fallback")]


def test_only_consented_groups_receive_the_lead():
    r = region()
    only_towns = route(["olpe", "siegen"], ["medizin_pflege"], ["municipalities"], r)
    assert only_towns == [Recipient("olpe", "municipality"), Recipient("siegen", "municipality")]
    only_tourism = route(["olpe", "siegen"], [], ["tourism"], r)
    assert only_tourism == [Recipient("sauerland-tourismus", "tourism"),
                            Recipient("tvsw", "tourism")]
    no_skilled = route(["olpe"], ["medizin_pflege"], ["municipalities", "tourism", "agency"], r)
    assert "fachkraefte" not in [x.org for x in no_skilled]
    assert route([], ["natur"], ["municipalities", "tourism"], r) == []


def test_agency_takes_a_lead_the_consents_would_otherwise_leave_unrouted():
    r = region()
    # Towns chosen, but only the agency consented to: content says the agency takes it.
    assert route(["olpe"], [], ["agency"], r) == [Recipient("suedwestfalen-agentur", "fallback")]
    strict = replace(r, agency_fallback_when_unrouted=False)
    assert route(["olpe"], [], ["agency"], strict) == []


def test_coverage_comes_from_content_not_code():
    r = region()
    orgs = dict(r.organisations)
    # Content change: Siegerland-Wittgenstein now also covers Olpe.
    orgs["tvsw"] = replace(orgs["tvsw"], covers=orgs["tvsw"].covers + ("olpe",))
    changed = replace(r, organisations=MappingProxyType(orgs))
    got = route(["olpe"], [], ALL, changed)
    assert [x.org for x in got] == ["olpe", "sauerland-tourismus", "tvsw"]


def test_unknown_municipalities_are_ignored():
    assert route(["atlantis"], [], ALL, region()) == [
        Recipient("suedwestfalen-agentur", "fallback")]


def test_every_municipality_routes_to_exactly_one_tourism_association():
    r = region()
    for slug in r.municipalities:
        got = route([slug], [], ["tourism"], r)
        assert len(got) == 1 and got[0].reason == "tourism", slug
