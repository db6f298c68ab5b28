"""The clocks' tests send to the same in-process SMTP server as the mail tests."""

from tests.mail.conftest import inbox, mail_app, smtp_server

__all__ = ["inbox", "mail_app", "smtp_server"]
