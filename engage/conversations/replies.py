"""What the service says outside a check-in's questions, in English and Spanish.

Each text fits one SMS. Placeholders are filled by the services.
"""

from __future__ import annotations

from collections.abc import Mapping

REPLIES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "opted_out": (
            "You're unsubscribed from engage check-ins and will get no more messages. "
            "Reply START to sign up again."
        ),
        "opted_in": "You're signed up again for engage check-ins. Reply STOP at any time to end.",
        "help": (
            "engage check-ins from {center}. Reply STOP to end, PAUSE 7 to pause a week, "
            "IDEA to share an idea. Questions? Call {phone}."
        ),
        "help_no_phone": (
            "engage check-ins from {center}. Reply STOP to end, PAUSE 7 to pause a week, "
            "IDEA to share an idea. Questions? Call your clinic."
        ),
        "paused": "Check-ins are paused until {date}. Reply RESUME to start again sooner.",
        "pause_usage": "To pause, reply PAUSE and a number of days from 1 to 90, like PAUSE 7.",
        "resumed": "Check-ins are on again. Reply PAUSE 7 to pause for a week.",
        "idea_prompt": "Please text your idea in one message. It goes to the network's ideas team.",
        "idea_too_long": (
            "Thank you! That idea is too long to review ({length} characters). "
            "Please text a shorter version, under 2,000 characters."
        ),
        "idea_who": (
            "Thank you! Your idea is saved as {reference}. Who would it help? "
            "Reply in a few words, or SKIP."
        ),
        "idea_contact": (
            "May someone from the network contact you about your idea? Reply YES or NO."
        ),
        "idea_contact_again": (
            "Sorry, I didn't get that. May someone from the network contact you about your "
            "idea? Reply YES or NO."
        ),
        "idea_credit": (
            "Should we credit the idea to {name}, or keep it anonymous? Reply NAME or ANON."
        ),
        "idea_credit_again": (
            "Sorry, I didn't get that. Reply NAME to credit the idea to {name}, "
            "or ANON to keep it anonymous."
        ),
        "idea_done": "Thanks! We'll text you what becomes of {reference}.",
        "idea_done_checkin": (
            "Thanks! We'll text you what becomes of {reference}. Back to your check-in:"
        ),
        "idea_saved": "Your idea is saved as {reference}.",
        "your_first_name": "your first name",
        "closed": "This check-in has closed, so this reply was not added to it. Thank you!",
        "nothing_open": (
            "Thanks for your message. There is no check-in open right now. "
            "Reply HELP for help or IDEA to share an idea."
        ),
        "unknown": (
            "This number does not recognise your phone. If you expected check-ins, "
            "please call your clinic."
        ),
        "which_child": "Which child is this about? {choices}",
        "which_choice": "{number} for {name}",
        "about": "This check-in is about {name}.",
        "now_about": "Now a check-in about {name}.",
        "reminder": "Reminder: your check-in is still open. Reply when you can, or STOP to end.",
        "reminder_about": "Reminder: {name}'s check-in is still open. Reply when you can.",
    },
    "es": {
        "opted_out": (
            "Se dio de baja de los mensajes de engage y no recibira mas. "
            "Responda START para volver a inscribirse."
        ),
        "opted_in": "Se inscribio de nuevo a los mensajes de engage. Responda STOP para terminar.",
        "help": (
            "Mensajes de engage de {center}. Responda STOP para terminar, PAUSA 7 para pausar "
            "una semana, IDEA para dar una idea. ¿Preguntas? Llame al {phone}."
        ),
        "help_no_phone": (
            "Mensajes de engage de {center}. Responda STOP para terminar, PAUSA 7 para pausar "
            "una semana, IDEA para dar una idea. ¿Preguntas? Llame a su clinica."
        ),
        "paused": "Mensajes en pausa hasta el {date}. Responda REANUDAR para volver antes.",
        "pause_usage": "Para pausar, responda PAUSA y un numero de dias del 1 al 90, como PAUSA 7.",
        "resumed": "Los mensajes estan activos de nuevo. Responda PAUSA 7 para pausar una semana.",
        "idea_prompt": "Envie su idea en un mensaje. Llegara al equipo de ideas de la red.",
        "idea_too_long": (
            "¡Gracias! Esa idea es demasiado larga para revisarla ({length} caracteres). "
            "Envie una version mas corta, de menos de 2.000 caracteres."
        ),
        "idea_who": (
            "¡Gracias! Su idea quedo guardada como {reference}. ¿A quien ayudaria? "
            "Responda en pocas palabras, o SKIP."
        ),
        "idea_contact": ("¿Podria alguien de la red contactarle sobre su idea? Responda SI o NO."),
        "idea_contact_again": (
            "Perdon, no entendi. ¿Podria alguien de la red contactarle sobre su idea? "
            "Responda SI o NO."
        ),
        "idea_credit": (
            "¿Damos credito por la idea a {name}, o la dejamos anonima? Responda NOMBRE o ANON."
        ),
        "idea_credit_again": (
            "Perdon, no entendi. Responda NOMBRE para dar credito a {name}, "
            "o ANON para dejar la idea anonima."
        ),
        "idea_done": "¡Gracias! Le avisaremos que pasa con {reference}.",
        "idea_done_checkin": (
            "¡Gracias! Le avisaremos que pasa con {reference}. Volvamos a su control:"
        ),
        "idea_saved": "Su idea quedo guardada como {reference}.",
        "your_first_name": "su nombre",
        "closed": "Este control ya cerro, asi que su respuesta no se agrego. ¡Gracias!",
        "nothing_open": (
            "Gracias por su mensaje. No hay ningun control abierto ahora. "
            "Responda AYUDA para ayuda o IDEA para dar una idea."
        ),
        "unknown": (
            "Este numero no reconoce su telefono. Si esperaba mensajes, llame a su clinica."
        ),
        "which_child": "¿Sobre cual hijo/a es? {choices}",
        "which_choice": "{number} para {name}",
        "about": "Este control es sobre {name}.",
        "now_about": "Ahora un control sobre {name}.",
        "reminder": "Recordatorio: su control sigue abierto. Responda cuando pueda, o STOP.",
        "reminder_about": (
            "Recordatorio: el control de {name} sigue abierto. Responda cuando pueda."
        ),
    },
}

CHOICES_LEAD = {"en": "Reply ", "es": "Responda "}
CHOICES_JOIN = {"en": ", ", "es": ", "}


def reply(language: str, key: str, **values: object) -> str:
    texts = REPLIES.get(language, REPLIES["en"])
    return texts[key].format(**values)


def which_child(language: str, names: list[str]) -> str:
    """``Which child is this about? Reply 1 for Sam, 2 for Alex``."""
    parts = [
        reply(language, "which_choice", number=n, name=name) for n, name in enumerate(names, 1)
    ]
    choices = CHOICES_LEAD.get(language, "Reply ") + CHOICES_JOIN.get(language, ", ").join(parts)
    return reply(language, "which_child", choices=choices)
