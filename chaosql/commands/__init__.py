"""CLI commands: one module each, with NAME, HELP, add_arguments(parser) and run(args) -> exit code.

Modules import their heavy dependencies inside ``run`` so ``chaosql --help`` stays fast.
"""

MODULES = [
    "chaosql.commands.query",
    "chaosql.commands.repl",
    "chaosql.commands.tables",
    "chaosql.commands.queries",
    "chaosql.commands.run",
    "chaosql.commands.report",
    "chaosql.commands.snapshot",
    "chaosql.commands.service",
    "chaosql.commands.export",
    "chaosql.commands.guard",
    "chaosql.commands.sweep",
    "chaosql.server.cli",
]
