"""The quiz in a real browser: works without JavaScript, accessible, CSP-clean."""

from __future__ import annotations

from .conftest import PHONE, axe_violations, documented_cookies

ANSWERS = [["1 bis 5 Jahre"], ["Wir lieben Wasser: Seen und Talsperren", "Berge"],
           ["In einer Kleinstadt"], ["Nein, wir arbeiten vor Ort oder von zu Hause"],
           ["5 – sehr wichtig"], ["Wintersport: Skifahren, Rodeln, Langlauf"],
           ["1 – gar nicht wichtig"], ["1 – gar nicht wichtig"]]


def play(s, answers) -> None:
    s.goto("/quiz/familie?utm_source=browser")
    # "Quiz starten", or "Neu beginnen" when a run is already under way
    s.page.locator("main form button[type=submit]").click()
    for n, labels in enumerate(answers, 1):
        assert s.page.url.endswith(f"/quiz/familie/frage/{n}")
        for label in labels:
            s.page.get_by_label(label, exact=True).check()
        s.page.get_by_role("button", name="Weiter").click()


def test_family_quiz_without_javascript_reaches_the_outcome(session_factory):
    s = session_factory(java_script_enabled=False, **PHONE)
    play(s, ANSWERS)
    assert s.page.url.endswith("/quiz/familie/ergebnis")
    first = s.page.locator(".match-name a").first
    assert first.inner_text() == "Hilchenbach"
    assert s.foreign_requests() == []
    assert s.cookie_names() <= {"csrftoken", "quiz"} & documented_cookies()


def test_quiz_pages_have_no_axe_violations_and_error_gets_focus(session_factory):
    s = session_factory(bypass_csp=True, **PHONE)  # bypass only to inject axe
    s.goto("/quiz/familie")
    problems = {"intro": axe_violations(s.page)}
    s.page.get_by_role("button", name="Quiz starten").click()
    problems["question"] = axe_violations(s.page)
    s.page.get_by_role("button", name="Weiter").click()  # nothing chosen
    assert s.page.locator(".error-summary").is_visible()
    # quiz.js moves focus to the summary so the problem is announced first
    assert s.page.evaluate("document.activeElement.className") == "error-summary"
    problems["error"] = axe_violations(s.page)
    s.page.locator(".error-summary a").click()
    assert s.page.evaluate("document.activeElement.id") == "answer"
    s.page.get_by_label("1 bis 5 Jahre").check()
    s.page.get_by_role("button", name="Weiter").click()
    assert s.page.url.endswith("/frage/2")
    s.goto("/quiz/familie/frage/5")  # skipped: a clear page, not an error
    problems["skipped"] = axe_violations(s.page)
    play(s, ANSWERS)
    assert s.page.url.endswith("/quiz/familie/ergebnis")
    problems["outcome"] = axe_violations(s.page)
    assert {k: v for k, v in problems.items() if v} == {}


def test_quiz_script_runs_under_the_content_security_policy(session_factory):
    s = session_factory(**PHONE)
    play(s, [[]])  # submit question 1 without an answer: the error page with quiz.js
    assert any(u.endswith("/static/js/quiz.js") for u in s.requests)
    # the script runs after the page is parsed: wait for it (up to 5 s), not a fixed moment
    s.page.wait_for_function("document.activeElement.className === 'error-summary'",
                             timeout=5000)
    assert [m for m in s.console if "Content Security Policy" in m or "pageerror" in m] == []
