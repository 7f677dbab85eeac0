"""``python -m bench``: run the benchmark."""

from bench.main import main

raise SystemExit(main())
