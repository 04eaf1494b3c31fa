"""Rotating the Twilio auth token: webhooks signed with the previous token still count."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.twilio_helpers import sms_params

OLD_TOKEN = "the-previous-auth-token"


def post_signed_with(client, app, token: str):
    params = sms_params("HELP", "+16175550123", "SM" + "7" * 32)
    url = app.config["PUBLIC_BASE_URL"] + "/twilio/sms"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})


def test_a_webhook_signed_with_the_previous_token_is_accepted_while_it_is_a_fallback(
    app, client, monkeypatch
):
    assert post_signed_with(client, app, OLD_TOKEN).status_code == 403
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN_FALLBACKS", [OLD_TOKEN])
    assert post_signed_with(client, app, OLD_TOKEN).status_code == 200
    assert post_signed_with(client, app, app.config["TWILIO_AUTH_TOKEN"]).status_code == 200
    assert post_signed_with(client, app, "some-other-token").status_code == 403
