"""`flask create-superuser`: make an admin, interactively or from flags; running it twice is harmless."""
from __future__ import annotations

import click
from flask import Flask
from marshmallow import ValidationError

from .schemas import RegisterSchema


def register_cli(app: Flask) -> None:
    @app.cli.command("create-superuser")
    @click.option("--username", help="Login name of the admin.")
    @click.option("--email", help="Email address of the admin.")
    @click.option("--password", help="Password (prompted, hidden, when not given).")
    @click.option("--no-input", is_flag=True, help="Never prompt; fail if a value is missing.")
    def create_superuser(username, email, password, no_input):
        """Create an admin, or make an existing user an admin with this password."""
        from . import services  # imported here so `flask --help` needs no database

        if not no_input:
            username = username or click.prompt("Username")
            email = email or click.prompt("Email")
            password = password or click.prompt("Password", hide_input=True, confirmation_prompt=True)
        missing = [name for name, value in (("username", username), ("email", email),
                                            ("password", password)) if not value]
        if missing:
            raise click.UsageError("missing " + ", ".join("--" + name for name in missing))
        try:
            RegisterSchema().load({"username": username, "email": email, "password": password})
        except ValidationError as error:
            raise click.UsageError(f"invalid input: {error.messages}") from None
        try:
            user, created = services.ensure_superuser(username, email, password)
        except services.Conflict as error:
            raise click.ClickException(error.message) from None
        verb = "Created" if created else "Updated"
        click.echo(f"{verb} admin {user.username!r} (id {user.id}).")
