import sys

from chaosql.cli import main

sys.exit(main())
