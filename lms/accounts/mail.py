"""Outgoing e-mail over SMTP; with no ``MAIL_HOST`` the whole message goes to the log."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

log = logging.getLogger("lms.mail")


def build(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="oqu.local")
    message.set_content(body)
    return message


def send(config: Mapping[str, Any], *, to: str, subject: str, body: str) -> None:
    """Send one message with the ``MAIL_*`` settings, or log it when no host is set."""
    message = build(sender=str(config["MAIL_SENDER"]), to=to, subject=subject, body=body)
    host = str(config.get("MAIL_HOST") or "")
    if not host:
        # A local install has no mail server: the operator reads the link from the log.
        log.info(
            "MAIL_HOST is not set; message not sent:\nFrom: %s\nTo: %s\nSubject: %s\n\n%s",
            message["From"],
            to,
            subject,
            body,
        )
        return
    port = int(config.get("MAIL_PORT") or 587)
    username = str(config.get("MAIL_USERNAME") or "")
    password = str(config.get("MAIL_PASSWORD") or "")
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if port == 465:
        smtp = smtplib.SMTP_SSL(host, port, timeout=15, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=15)
    with smtp as connection:
        if port != 465 and config.get("MAIL_USE_TLS"):
            connection.starttls(context=context)
        if username:
            connection.login(username, password)
        connection.send_message(message)
    log.info("mail sent to %s: %s", to, subject)
