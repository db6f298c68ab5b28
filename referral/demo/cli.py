"""`flask --app referral demo generate --cases N [--seed S]`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from referral.db import get_db
from referral.demo.generate import generate

demo_cli = AppGroup("demo", help="Generated demo data.")


@demo_cli.command("generate")
@click.option("--cases", type=click.IntRange(min=1), required=True, help="How many cases to add.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option("--batch", type=click.IntRange(min=1, max=20_000), default=1000, show_default=True)
def generate_command(cases: int, seed: int, batch: int) -> None:
    """Add routed demo screenings, referrals and gaps in the report's proportions."""
    database = get_db()
    with (
        database.session() as session,
        click.progressbar(length=cases, label="Generating", file=sys.stderr) as bar,
    ):
        made = generate(
            session,
            cases,
            seed=seed,
            seeds_dir=current_app.config["SEEDS_DIR"],
            batch=batch,
            progress=bar.update,
        )
    click.echo(f"Added {made} demo cases.")
