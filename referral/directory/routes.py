"""Placeholder: the directory pages (replaced in this feature's next commit)."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from referral.access import Reach, require_supervisor_or_admin

blueprint = Blueprint("directory", __name__, template_folder="templates")


@blueprint.get("/directory")
@login_required
def index() -> str:
    require_supervisor_or_admin(Reach.of(current_user))
    return render_template("directory/index.html")
