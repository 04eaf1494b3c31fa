"""The SMS consent text families agree to, by version."""

# Bump the version whenever the wording changes: every consent change records
# the version the family saw.
CURRENT_CONSENT_TEXT_VERSION = "2026-11"

CONSENT_TEXTS = {
    "2026-11": {
        "en": (
            "Your care team will text you short health check-ins. Msg&data rates may apply. "
            "Reply STOP to stop, HELP for help."
        ),
        "es": (
            "Su equipo de atención le enviará mensajes con preguntas breves de salud. "
            "Pueden aplicarse tarifas. Responda STOP para cancelar, HELP para ayuda."
        ),
    },
}
