"""Ruta: screening, referral routing and referral-gap tracking for victims of trafficking."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from referral.config import ConfigurationError, load_config

__all__ = ["ConfigurationError", "create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("REFERRAL_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path or None)
    load_config(app, config)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:  # the client's address and scheme as the proxies in front saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )

    from referral import cli, db, i18n, labels
    from referral.directory import catalogue

    db.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)  # every template's lang, catalogue, label() and reason_label()
    catalogue.init_app(app)
    cli.init_app(app)
    if loading_for_command():
        # `flask --app referral COMMAND`: the features are set up once the command's name is
        # known, and not at all for a command that needs only the directory and the rules.
        app.cli = cli.DeferredGroup(app, app.cli, add_features)
    else:
        add_features(app)
    return app


def loading_for_command() -> bool:
    """True while the Flask CLI loads the app to look up one of the app's commands.

    Flask's own commands (`run`, `shell`, `routes`) load the app once they run, when the
    command's name is already known; they get every feature at once."""
    import click
    from flask.cli import FlaskGroup

    context = click.get_current_context(silent=True)
    if context is None:
        return False
    root = context.find_root()
    return isinstance(root.command, FlaskGroup) and root.invoked_subcommand is None


def add_features(app: Flask) -> None:
    """Every feature's models, views, hooks and commands."""
    # Every table on SQLModel.metadata: erasing a case walks their foreign keys.
    import referral.models  # noqa: F401
    from referral import security, setup
    from referral.api import routes as api
    from referral.directory.cli import directory_cli
    from referral.site import routes as site

    security.init_app(app)
    app.register_blueprint(site.blueprint)
    app.register_blueprint(api.blueprint)
    setup.init_app(app)
    app.cli.add_command(directory_cli)

    from referral import errors
    from referral.audit import routes as audit
    from referral.auth import cli as auth_cli
    from referral.auth import firstrun
    from referral.auth import routes as auth

    auth.init_app(app)  # sign-in, sessions, users; sets the saved-language lookup for i18n
    app.register_blueprint(audit.blueprint)
    app.cli.add_command(auth_cli.users_cli)
    errors.init_app(app)
    firstrun.init_app(app)  # after setup: the database exists before the link is issued

    from referral.casework import cli as casework_cli
    from referral.casework import manage as casework_manage
    from referral.casework import routes as casework

    app.register_blueprint(casework.intake_blueprint)
    app.register_blueprint(casework.blueprint)
    app.register_blueprint(casework_manage.blueprint)
    app.cli.add_command(casework_cli.cases_cli)
    app.cli.add_command(casework_cli.retention_cli)

    from referral.demo import cli as demo_cli

    app.cli.add_command(demo_cli.demo_cli)

    from referral.directory import routes as directory
    from referral.supervision import cli as supervision_cli
    from referral.supervision import routes as supervision

    app.register_blueprint(supervision.blueprint)
    app.cli.add_command(supervision_cli.aggregates_cli)
    app.register_blueprint(directory.blueprint)

    from referral.mail import cli as mail_cli
    from referral.mail import routes as mail
    from referral.mail import sending

    sending.init_app(app)  # send what a request put in the outbox once its response is gone
    app.register_blueprint(mail.blueprint)
    app.cli.add_command(mail_cli.mail_cli)

    from referral.clocks import cli as clocks_cli
    from referral.clocks import routes as clocks

    clocks.init_app(app)  # the case page's tasks partial (cases/_tasks.html)
    app.register_blueprint(clocks.blueprint)
    app.cli.add_command(clocks_cli.clocks_cli)

    from referral.stats import cli as stats_cli
    from referral.stats import routes as stats

    app.register_blueprint(stats.blueprint)

    from referral.provider import routes as provider

    provider.init_app(app)  # the receiving service's pages and answer links (issue 14)
    app.cli.add_command(stats_cli.stats_cli)
