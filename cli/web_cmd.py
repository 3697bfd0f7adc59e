"""`nbcatalog web`: serve the catalogue, its run forms, history and reports in a browser.

``nbcatalog web [--host 127.0.0.1] [--port 8765]`` serves until stopped.
``nbcatalog web password-hash`` prints the hash of a password (or token) to put in
the ``[web]`` table of the config file; ``nbcatalog web new-token`` makes a random
access token and prints it with its hash. Exit codes: 0 stopped cleanly, 1 the
server failed (e.g. the port is taken), 2 bad options or configuration.

Example:
    $ nbcatalog web password-hash            # type the password twice
    $ nbcatalog web --port 8765
"""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from nbcatalog.errors import UsageError


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(
    "web",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="port")
@click.option(
    "--output",
    "output",
    metavar="DIR",
    help="output root for run folders and history [default: $NBCATALOG_OUTPUT, the config "
    "file's output_dir, or ./output: the one the CLI and schedules use]",
)
@click.option(
    "--source",
    "source",
    metavar="SPEC",
    help="data source for every run [default: $NBCATALOG_SOURCE or the config file's]",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="runs at once (each on a warm kernel); more wait in a queue",
)
@click.option(
    "--run-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="fail a run that takes longer than this",
)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=None,
    help="cookies only over https [default: the config's secure_cookies, else when the "
    "request came over https]",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="a host name the app answers to besides localhost (repeat; '*' for any), e.g. the "
    "name behind your reverse proxy",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    metavar="IPS",
    help="proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated)",
)
@click.option(
    "--warm/--no-warm",
    default=True,
    show_default=True,
    help="start the kernels when the app starts (--no-warm: at the first run, to save memory)",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.pass_context
def web(ctx: click.Context, **options: object) -> None:
    """Serve the catalogue in a browser: run forms, history, reports, reruns.

    Needs a login: users or a token hash in the [web] table of the config file,
    or NBCATALOG_WEB_TOKEN_HASH. Without either, a random token is made for this
    process and printed once.
    """
    if ctx.invoked_subcommand is not None:
        return
    from nbcatalog.web.server import exposure_warning, serve
    from nbcatalog.web.settings import load_settings

    host = str(options["host"])
    try:
        settings = load_settings(
            output_root=options["output"],  # type: ignore[arg-type]
            data_source=options["source"],  # type: ignore[arg-type]
            workers=int(options["workers"]),  # type: ignore[call-overload]
            run_timeout=options["run_timeout"],  # type: ignore[arg-type]
            secure_cookies=options["secure_cookies"],  # type: ignore[arg-type]
            bind_host=host,
            extra_hosts=tuple(options["allowed_hosts"]),  # type: ignore[arg-type]
            warm_pool=bool(options["warm"]),
        )
    except UsageError as exc:
        _fail(str(exc))
    warning = exposure_warning(host)
    if warning:
        click.echo(warning, err=True)
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"nbcatalog web: http://{shown_host}:{options['port']}/")
    click.echo(f"output root: {settings.output_root} (history: history.sqlite there)")
    if not settings.credentials.configured:
        settings = replace(settings, credentials=settings.credentials.with_generated_token())
        click.echo(
            "no login is configured: log in with an empty user name and this access token, "
            "valid until the app stops (shown once, stored nowhere):\n"
            f"  {settings.credentials.generated_token}\n"
            "For a lasting login see `nbcatalog web password-hash` and README, 'Web app'."
        )
    sys.stdout.flush()
    serve(
        settings,
        host=host,
        port=int(options["port"]),  # type: ignore[call-overload]
        forwarded_allow_ips=str(options["forwarded_allow_ips"]),
        log_level=str(options["log_level"]),
    )


@web.command("password-hash")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the password from standard input")
def password_hash(from_stdin: bool) -> None:
    """Print the hash of a password or token for the [web] table of the config file.

    \b
    Example:
      $ nbcatalog web password-hash
      [web.users]
      alice = "scrypt$16384$8$1$..."
    """
    from nbcatalog.web.passwords import hash_secret

    if from_stdin or not sys.stdin.isatty():
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if not secret:
        _fail("an empty password cannot be used; type one (or pipe it with --stdin)")
    if len(secret) < 12:
        click.echo("warning: a password under 12 characters is easy to guess", err=True)
    click.echo(hash_secret(secret))


@web.command("new-token")
def new_token_command() -> None:
    """Make a random access token; print it once, and the line for the config file.

    \b
    Example:
      $ nbcatalog web new-token
    """
    from nbcatalog.web.passwords import hash_secret, new_token

    token = new_token()
    click.echo(f"access token (give it to the analysts; it is not stored): {token}")
    click.echo("put this in the [web] table of the config file, or in NBCATALOG_WEB_TOKEN_HASH:")
    click.echo(f'token_hash = "{hash_secret(token)}"')


COMMANDS: list[click.Command] = [web]
