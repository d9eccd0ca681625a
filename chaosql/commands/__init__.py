"""CLI commands: one module each, with NAME, HELP, add_arguments(parser) and run(args) -> exit code.

Modules import their heavy dependencies inside ``run`` so ``chaosql --help`` stays fast.
"""

#: Each command's name -> its module. The names are written here too, so the command line can
#: tell which command it runs (``query``, the quick path to a running service) without importing
#: every command's module; tests/test_cli.py checks each against its module's ``NAME``.
COMMANDS = {
    "query": "chaosql.commands.query",
    "repl": "chaosql.commands.repl",
    "tables": "chaosql.commands.tables",
    "queries": "chaosql.commands.queries",
    "run": "chaosql.commands.run",
    "report": "chaosql.commands.report",
    "snapshot": "chaosql.commands.snapshot",
    "service": "chaosql.commands.service",
    "export": "chaosql.commands.export",
    "guard": "chaosql.commands.guard",
    "sweep": "chaosql.commands.sweep",
    "serve": "chaosql.server.cli",
}
MODULES = list(COMMANDS.values())
