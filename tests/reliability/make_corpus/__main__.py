"""``python -m tests.reliability.make_corpus [--check]``: write the corpus, or compare it with
the committed one (:func:`tests.reliability.make_corpus.writer.main`)."""

from __future__ import annotations

import sys

from tests.reliability.make_corpus.writer import main

if __name__ == "__main__":
    sys.exit(main())
