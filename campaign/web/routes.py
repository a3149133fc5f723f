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
    api,
    booking,
    followup,
    health,
    illustrations,
    leads,
    offers,
    pictures,
    places,
    portal,
    portal_api,
    portal_auth,
    portal_case,
    portal_compare,
    portal_facts,
    portal_offers,
    portal_pages,
    portal_pool,
    portal_profile,
    portal_replies,
    portal_review,
    portal_slots,
    portal_stories,
    portal_targets,
    portal_team,
    quiz,
    receipt,
    share,
    showcase,
)

GET, POST = ["GET"], ["POST"]
# The forms that upload files (a staff photo, a page picture, a how-to): their
# bodies may be larger (app.py).
PHOTO_PATH = "/partner/profil/foto"
PICTURE_PATH = "/partner/seite/bild"  # and the one that uploads a picture of a page
# The form that writes a how-to with its attachments (``portal.howtos.MAX_UPLOAD``).
ARTICLE_PATH = "/partner/wissen/neu"
STORY_PATH = "/partner/geschichte"  # a town's own story, with an optional photo


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
        # Offers that bridge holiday and life
        Route("/angebote", offers.overview, name="offers", methods=GET),
        Route("/angebote/{kind}", offers.listing, name="offer_list", methods=GET),
        Route("/angebote/{kind}/{offer}", offers.detail, name="offer", methods=GET),
        Route("/angebote/{kind}/{offer}", offers.apply, name="offer_apply", methods=POST),
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
        Route("/bilder/{key}/{width:id}.{fmt}", pictures.serve, name="picture", methods=GET),
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
        Route("/partner/seite", portal_pages.page_form, name="partner_page", methods=GET),
        Route("/partner/seite", portal_pages.page_save, name="partner_page_save",
              methods=POST),
        Route(PICTURE_PATH, portal_pages.picture_upload, name="partner_page_picture",
              methods=POST),
        Route("/partner/seite/bilder", portal_pages.picture_arrange,
              name="partner_page_pictures", methods=POST),
        # A municipality's facts with sources (proposals for the agency's review)
        Route("/partner/fakten", portal_facts.facts_form, name="partner_facts", methods=GET),
        Route("/partner/fakten", portal_facts.facts_save, name="partner_facts_save",
              methods=POST),
        Route("/partner/geschichte", portal_stories.story_form, name="partner_story",
              methods=GET),
        Route(STORY_PATH, portal_stories.story_save, name="partner_story_save",
              methods=POST),
        # Partners' offers (proposals for the agency's review; ending takes effect at once)
        Route("/partner/angebote", portal_offers.offers_page, name="partner_offers", methods=GET),
        Route("/partner/angebote/neu/{kind}", portal_offers.new_form, name="partner_offer_new",
              methods=GET),
        Route("/partner/angebote/neu/{kind}", portal_offers.new_save,
              name="partner_offer_new_save", methods=POST),
        Route("/partner/angebote/{slug}", portal_offers.offer_form, name="partner_offer",
              methods=GET),
        Route("/partner/angebote/{slug}", portal_offers.offer_save, name="partner_offer_save",
              methods=POST),
        Route("/partner/angebote/{slug}/beenden", portal_offers.offer_end,
              name="partner_offer_end", methods=POST),
        Route("/partner/freigaben", portal_review.queue_page, name="partner_review",
              methods=GET),
        Route("/partner/freigaben/{proposal_id:id}", portal_review.decide,
              name="partner_review_decide", methods=POST),
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
        Route("/partner/api", portal_api.api_page, name="partner_api", methods=GET),
        Route("/partner/api/zugang-widerrufen", portal_api.token_revoke,
              name="partner_api_token_revoke", methods=POST),
        Route("/partner/api/webhook", portal_api.hook_add, name="partner_api_hook_add",
              methods=POST),
        Route("/partner/api/webhook-entfernen", portal_api.hook_remove,
              name="partner_api_hook_remove", methods=POST),
        Route("/partner/api/webhook-test", portal_api.hook_ping, name="partner_api_hook_ping",
              methods=POST),
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
        # The knowledge pool between organisations
        Route("/partner/lead/{lead_id:id}/antwort", portal_replies.send_reply,
              name="partner_lead_reply", methods=POST),
        Route("/partner/vorlagen", portal_replies.templates_page, name="partner_replies",
              methods=GET),
        Route("/partner/vorlagen", portal_replies.template_save, name="partner_replies_new",
              methods=POST),
        Route("/partner/vorlagen/{template_id:id}", portal_replies.template_form,
              name="partner_reply_template", methods=GET),
        Route("/partner/vorlagen/{template_id:id}", portal_replies.template_save,
              name="partner_reply_template_save", methods=POST),
        Route("/partner/vorlagen/{template_id:id}/loeschen", portal_replies.template_delete,
              name="partner_reply_template_delete", methods=POST),
        Route("/partner/vorlagen/{template_id:id}/kopieren", portal_replies.template_copy,
              name="partner_reply_template_copy", methods=POST),
        Route("/partner/wissen", portal_pool.pool_page, name="partner_pool", methods=GET),
        Route(ARTICLE_PATH, portal_pool.article_form, name="partner_article_new", methods=GET),
        Route(ARTICLE_PATH, portal_pool.article_create, name="partner_article_create",
              methods=POST),
        Route("/partner/wissen/{article_id:id}", portal_pool.article_page,
              name="partner_article", methods=GET),
        Route("/partner/wissen/{article_id:id}/bearbeiten", portal_pool.article_edit_form,
              name="partner_article_edit", methods=GET),
        Route("/partner/wissen/{article_id:id}/bearbeiten", portal_pool.article_update,
              name="partner_article_update", methods=POST),
        Route("/partner/wissen/{article_id:id}/loeschen", portal_pool.article_delete,
              name="partner_article_delete", methods=POST),
        Route("/partner/wissen/{article_id:id}/hilfreich", portal_pool.article_mark,
              name="partner_article_mark", methods=POST),
        Route("/partner/wissen/{article_id:id}/anhang/{file_id:id}", portal_pool.article_file,
              name="partner_article_file", methods=GET),
        Route("/partner/vergleich", portal_compare.compare_page, name="partner_compare",
              methods=GET),
        # The JSON API of an organisation (Bearer token, no cookies)
        Route("/api/v1/openapi.json", api.openapi, name="api_openapi", methods=GET),
        Route("/api/v1/leads", api.leads, name="api_leads", methods=GET),
        Route("/api/v1/leads/{number}", api.lead, name="api_lead", methods=GET),
        # Operations and files
        Route("/healthz", health.healthz, name="healthz", methods=GET),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
