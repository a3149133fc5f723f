"""The route table: every page of the service, top to bottom, as a site map.

Each route is named; templates and views build links with ``url_for`` /
``path_for``. A GET route answers HEAD too. Numbers in paths are ``{…:id}``:
at most nine digits, so an absurdly long number is simply a page that does
not exist (404).
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .. import STATIC_DIR
from .views import (
    booking,
    followup,
    health,
    illustrations,
    leads,
    places,
    portal,
    portal_auth,
    portal_case,
    portal_profile,
    portal_slots,
    portal_targets,
    portal_team,
    quiz,
    receipt,
    share,
    showcase,
)

GET, POST = ["GET"], ["POST"]
# The one form that uploads a file (a staff photo): its body may be larger (app.py).
PHOTO_PATH = "/partner/profil/foto"


class IdConvertor(Convertor[int]):
    """A positive whole number of at most nine digits."""

    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())


def routes() -> list[BaseRoute]:
    return [
        # The region for families
        Route("/", showcase.landing, name="landing", methods=GET),
        Route("/region/{district}", showcase.district, name="district", methods=GET),
        Route("/orte/{municipality}", showcase.municipality, name="municipality", methods=GET),
        Route("/datenschutz", showcase.privacy, name="privacy", methods=GET),
        Route("/impressum", showcase.imprint, name="imprint", methods=GET),
        Route("/leichte-sprache", showcase.easy_landing, name="easy_landing", methods=GET),
        Route("/leichte-sprache/interesse", showcase.easy_interest, name="easy_interest",
              methods=GET),
        Route("/leichte-sprache/datenschutz", showcase.easy_privacy, name="easy_privacy",
              methods=GET),
        # Quizzes
        Route("/quiz/{quiz}", quiz.start, name="quiz_start", methods=GET),
        Route("/quiz/{quiz}", quiz.begin, name="quiz_begin", methods=POST),
        Route("/quiz/{quiz}/frage/{n:id}", quiz.question, name="quiz_question", methods=GET),
        Route("/quiz/{quiz}/frage/{n:id}", quiz.answer, name="quiz_answer", methods=POST),
        Route("/quiz/{quiz}/ergebnis", quiz.result, name="quiz_result", methods=GET),
        # Interest, double opt-in, the family's own data
        Route("/interesse", leads.lead_form, name="lead_form", methods=GET),
        Route("/interesse", leads.lead_submit, name="lead_submit", methods=POST),
        Route("/interesse/danke", leads.lead_thanks, name="lead_thanks", methods=GET),
        Route("/interesse/neuer-link", leads.resend_form, name="lead_resend", methods=GET),
        Route("/interesse/neuer-link", leads.resend, name="lead_resend_send", methods=POST),
        Route("/bestaetigen/{token}", leads.lead_confirm, name="lead_confirm", methods=GET),
        Route("/bestaetigen/{token}", leads.lead_confirm_act, name="lead_confirm_act",
              methods=POST),
        Route("/meine-daten/{token}", leads.self_service, name="self_service", methods=GET),
        Route("/meine-daten/{token}", leads.self_service_act, name="self_service_act",
              methods=POST),
        Route("/ansprechperson/foto/{photo}", portal_profile.photo, name="contact_photo",
              methods=GET),
        Route("/nachfrage/zustimmen/{token}", followup.consent, name="followup_consent",
              methods=GET),
        Route("/nachfrage/zustimmen/{token}", followup.consent_act,
              name="followup_consent_act", methods=POST),
        Route("/nachfrage/{token}", followup.answer, name="followup_answer", methods=GET),
        Route("/nachfrage/{token}", followup.answer_act, name="followup_answer_act",
              methods=POST),
        Route("/quittung/{token}", receipt.receipt, name="receipt", methods=GET),
        Route("/quittung/{token}", receipt.receipt_act, name="receipt_act", methods=POST),
        Route("/termin/{token}", booking.page, name="booking", methods=GET),
        Route("/termin/{token}", booking.act, name="booking_act", methods=POST),
        # Drawn default pictures of the showcases
        Route("/bilder/ort/{slug}.svg", illustrations.municipality,
              name="illustration_municipality", methods=GET),
        Route("/bilder/kreis/{slug}.svg", illustrations.district,
              name="illustration_district", methods=GET),
        # Sharing and print campaigns
        Route("/teilen/bild/kampagne.png", share.image_default, name="share_image_default",
              methods=GET),
        Route("/teilen/bild/orte/{slug}.png", share.image_municipality,
              name="share_image_municipality", methods=GET),
        Route("/teilen/bild/ergebnis/{token}.png", share.image_result,
              name="share_image_result", methods=GET),
        Route("/teilen/{token}", share.result_page, name="share_result", methods=GET),
        Route("/q/{code}", share.qr_redirect, name="qr_redirect", methods=GET),
        # Partner portal
        Route("/partner/login", portal_auth.login_form, name="partner_login", methods=GET),
        Route("/partner/login", portal_auth.login, name="partner_login_send", methods=POST),
        Route("/partner/logout", portal_auth.logout, name="partner_logout", methods=POST),
        Route("/partner/passwort-vergessen", portal_auth.forgot_form, name="partner_forgot",
              methods=GET),
        Route("/partner/passwort-vergessen", portal_auth.forgot, name="partner_forgot_send",
              methods=POST),
        Route("/partner/passwort-neu/{token}", portal_auth.reset_form, name="partner_reset",
              methods=GET),
        Route("/partner/passwort-neu/{token}", portal_auth.reset, name="partner_reset_send",
              methods=POST),
        Route("/partner/passwort", portal_auth.password_form, name="partner_password",
              methods=GET),
        Route("/partner/passwort", portal_auth.password_change, name="partner_password_send",
              methods=POST),
        Route("/partner/", portal.leads, name="partner_leads", methods=GET),
        Route("/partner/lead/{lead_id:id}", portal.lead, name="partner_lead", methods=GET),
        Route("/partner/lead/{lead_id:id}/status", portal_case.lead_stage,
              name="partner_lead_status", methods=POST),
        Route("/partner/lead/{lead_id:id}/uebernehmen", portal_case.lead_take,
              name="partner_lead_take", methods=POST),
        Route("/partner/lead/{lead_id:id}/zuweisen", portal_case.lead_assign,
              name="partner_lead_assign", methods=POST),
        Route("/partner/lead/{lead_id:id}/anruf", portal_case.lead_call,
              name="partner_lead_call", methods=POST),
        Route("/partner/lead/{lead_id:id}/notiz", portal.lead_note, name="partner_lead_note",
              methods=POST),
        Route("/partner/profil", portal_profile.profile_form, name="partner_profile",
              methods=GET),
        Route("/partner/profil", portal_profile.profile_save, name="partner_profile_save",
              methods=POST),
        Route(PHOTO_PATH, portal_profile.photo_upload,
              name="partner_profile_photo", methods=POST),
        Route("/partner/lead/{lead_id:id}/termine", portal_slots.page, name="partner_slots",
              methods=GET),
        Route("/partner/lead/{lead_id:id}/termine", portal_slots.offer,
              name="partner_slots_offer", methods=POST),
        Route("/partner/lead/{lead_id:id}/termine/verlegen", portal_slots.move,
              name="partner_slots_move", methods=POST),
        Route("/partner/lead/{lead_id:id}/termine/absagen", portal_slots.cancel,
              name="partner_slots_cancel", methods=POST),
        Route("/partner/lead/{lead_id:id}/termine/zurueckziehen", portal_slots.remove,
              name="partner_slots_remove", methods=POST),
        Route("/partner/team", portal_team.team_page, name="partner_team", methods=GET),
        Route("/partner/team/einladen", portal_team.team_invite, name="partner_team_invite",
              methods=POST),
        Route("/partner/team/{user_id:id}/deaktivieren", portal_team.team_deactivate,
              name="partner_team_deactivate", methods=POST),
        Route("/partner/export.csv", portal.export, name="partner_export", methods=GET),
        Route("/partner/statistik", portal.stats, name="partner_stats", methods=GET),
        Route("/partner/ueberfaellig", portal_targets.overdue_page, name="partner_overdue",
              methods=GET),
        Route("/partner/postausgang", portal.outbox_page, name="partner_outbox", methods=GET),
        Route("/partner/postausgang", portal.outbox_resend, name="partner_outbox_resend",
              methods=POST),
        Route("/partner/orte-qr", places.places_list, name="partner_places", methods=GET),
        Route("/partner/orte-qr", places.place_create, name="partner_place_create",
              methods=POST),
        Route("/partner/orte-qr/{code}/qr.{kind}", places.place_qr, name="partner_place_qr",
              methods=GET),
        Route("/partner/orte-qr/{code}/karte", places.place_card, name="partner_place_card",
              methods=GET),
        # Operations and files
        Route("/healthz", health.healthz, name="healthz", methods=GET),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
