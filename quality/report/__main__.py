"""``python -m quality.report <root> [out dir]``: regenerate every page and the index."""

from quality.report import main

raise SystemExit(main())
