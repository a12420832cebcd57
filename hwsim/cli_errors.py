"""One-line errors for the CLI: user errors (HwsimError) and click's usage errors both print
``error: <message>`` on stderr and exit 2."""

from __future__ import annotations

import functools
import sys

import click

from hwsim.errors import HwsimError


def one_line_errors(fn):
    """Turn user errors into ``error: <message>`` and exit 2 (click's usage errors: :class:`OneLineGroup`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HwsimError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


_HELP_ERRORS = tuple(getattr(click.exceptions, n) for n in ("NoArgsIsHelpError",) if hasattr(click.exceptions, n))


class _UsageLine(click.ClickException):
    """A click usage error (bad option value, unknown option or command) as the same one line as HwsimError."""

    exit_code = 2

    def __init__(self, e: click.UsageError):
        path = e.ctx.command_path if e.ctx is not None else "hwsim"
        super().__init__(f"{path}: {e.format_message().rstrip('.')} (see '{path} --help')")

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class OneLineGroup(click.Group):
    """click.Group whose usage errors (its own and its commands') print one line, exit 2, like HwsimError."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as e:
            if isinstance(e, _HELP_ERRORS):  # `hwsim` alone prints the help
                raise
            raise _UsageLine(e) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            if isinstance(e, _HELP_ERRORS):
                raise
            raise _UsageLine(e) from None
