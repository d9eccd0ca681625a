"""Configuration: one TOML file names the sources and settings; flags and environment override it.

Where it is looked for, first found wins: ``--config FILE``, ``$CHAOSQL_CONFIG``,
``$XDG_CONFIG_HOME/chaosql/config.toml`` (``~/.config/chaosql/config.toml``). Example::

    [settings]
    on_source_error = "warn"          # any chaosql.* setting (see SET chaosql.*)

    [sources.prod]                    # a source named "prod": its rows say cluster = 'prod'
    type = "kube"                     # kube | snapshot | demo | prometheus | chaosd | ...
    context = "prod-admin"            # kubeconfig context (default: the current one)
    kubeconfig = "~/.kube/config"

    [sources.lab]
    type = "snapshot"
    path = "~/chaos/lab"
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from chaosql.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

DEMO_NOTICE = "chaosql: no sources configured; using the bundled demo data (--source or a config file chooses others)"


class Config:
    """The config file's content. A plain class, not a dataclass: the command line's quick path to
    a running service imports this module, and ``dataclasses`` (with ``inspect``) costs it ~5 ms."""

    def __init__(
        self,
        path: Path | None = None,
        sources: dict[str, dict[str, Any]] | None = None,
        settings: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.sources: dict[str, dict[str, Any]] = sources if sources is not None else {}
        self.settings: dict[str, Any] = settings if settings is not None else {}
        self.raw: dict[str, Any] = raw if raw is not None else {}

    def __repr__(self) -> str:
        return f"Config(path={self.path!r}, sources={self.sources!r}, settings={self.settings!r})"

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name) or {}
        return value if isinstance(value, dict) else {}


def config_path(explicit: str | None = None) -> Path | None:
    from pathlib import Path

    found = config_file(explicit)
    return Path(found) if found is not None else None


def config_file(explicit: str | None = None) -> str | None:
    """Where the config file is (``config_path``), without loading pathlib: the command line's
    quick path to a running service asks."""
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise UsageError(f"config file {explicit} not found")
        return path
    env = os.environ.get("CHAOSQL_CONFIG")
    if env:
        return config_file(env)
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    default = os.path.join(home, "chaosql", "config.toml")
    return default if os.path.isfile(default) else None


def load_config(explicit: str | None = None) -> Config:
    path = config_path(explicit)
    if path is None:
        return Config()
    import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise UsageError(f"config file {path}: {err}") from err
    sources = raw.get("sources") or {}
    if not isinstance(sources, dict) or not all(isinstance(v, dict) for v in sources.values()):
        raise UsageError(f"config file {path}: [sources.NAME] sections expected")
    for name, spec in sources.items():
        if "type" not in spec:
            raise UsageError(
                f"config file {path}: source {name} has no type", hint='add type = "kube" (or snapshot, demo, ...)'
            )
    return Config(path=path, sources=sources, settings=dict(raw.get("settings") or {}), raw=raw)


def open_sources(specs: list[str], config: Config, *, notice=None) -> list[Any]:
    """Sources for ``specs`` (``--source`` values or configured names), else the config's, else demo."""
    from chaosql.sources import open_source

    specs = specs or [s for s in os.environ.get("CHAOSQL_SOURCE", "").split(",") if s.strip()]
    if specs:
        return [
            _open_named(s.strip(), config) if s.strip() in config.sources else open_source(s.strip(), config=config.raw)
            for s in specs
        ]
    if config.sources:
        return [_open_named(name, config) for name in config.sources]
    if notice:
        notice(DEMO_NOTICE)
    return [open_source("demo", config=config.raw)]


def _open_named(name: str, config: Config) -> Any:
    from chaosql.sources import open_source

    spec = dict(config.sources[name])
    kind = spec.pop("type")
    target = spec.get("path") or spec.get("context") or spec.get("url") or ""
    return open_source(f"{kind}:{target}" if target else kind, name=name, config={**config.raw, "source": spec})
