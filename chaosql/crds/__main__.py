"""``python -m chaosql.crds [--check]``: regenerate (or check) the compact schema files."""

from __future__ import annotations

import argparse
import sys

from chaosql.crds import HERE, MANIFESTS, schema_file
from chaosql.crds.compact import compact, dumps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate chaosql/crds/*/schema.json from the CRD manifests.")
    parser.add_argument("--check", action="store_true", help="exit 1 if one is out of date")
    args = parser.parse_args(argv)
    stale = []
    for manifest in MANIFESTS:
        path = schema_file(manifest)
        text = dumps(compact(HERE / manifest / "crd.yaml"))
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path.relative_to(HERE.parent.parent)}")
    if args.check:
        for path in stale:
            print(f"{path.relative_to(HERE.parent.parent)} is out of date: run python -m chaosql.crds", file=sys.stderr)
        return 1 if stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
