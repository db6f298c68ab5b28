"""The outbox's status for admins: how many messages wait, were sent or were given up.

URL rules of this feature:
    GET  /admin/outbox     mail.outbox   (admins; counts only, never a message's content)
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from referral import db
from referral.access import requires
from referral.mail import sending

blueprint = Blueprint("mail", __name__, template_folder="templates")


@blueprint.get("/admin/outbox")
@requires("admin")
def outbox() -> str:
    return render_template(
        "mail/outbox.html",
        counts=sending.counts(db.session(), current_app),
        keep_days=int(current_app.config["OUTBOX_KEEP_DAYS"]),
    )
