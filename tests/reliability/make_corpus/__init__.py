"""Write the bad-input corpus: broken deliveries of the six feeds, each with its expected outcome.

``python -m tests.reliability.make_corpus`` (re)writes ``tests/reliability/corpus/``;
``--check`` only compares the committed corpus with what this script writes (the test suite
runs that too). The corpus files are committed: they are the corpus. They are written by a
script because most of them are bytes an editor would not keep: CP950 text, 80-byte records
cut by bytes, a UTF-8 byte-order mark, control characters, and ``.sha256`` companions that
must match their files.

Layout: ``corpus/<feed>/<case>/`` holds the delivery exactly as it would arrive (the file and
its ``.sha256`` companion, unless the case is about the companion; for the API feed, the page
bodies the agency's server answers) and ``case.yaml``:

``feed``, ``issue`` (the kind of bad input, as the issue lists them), ``description``,
``file`` (the delivered file the outcome is recorded under; ``pull`` for a pulled feed),
``files`` (what to drop into the inbox, or what the server serves), optionally ``serve``
(the API's answer: content type, delay) and ``options`` / ``env`` (the puller's settings), and
``expect``:

- ``outcome``: ``refused`` (the delivery is not ingested; ``stage`` land, bronze or pull),
  ``held`` (a companion without its file waits in the inbox, reported on every run),
  ``failed`` (a quality gate refuses the whole batch), ``quarantined`` (the batch goes on; the
  records of ``quarantined`` go to quarantine: rule id -> record numbers) or ``ok``;
- ``message``: a fragment the reason must hold; ``line``: the line the reason must name;
  ``within_seconds``: the run ends within this time (a source that does not answer);
- ``records`` (delivered records = bronze rows), ``silver`` (records reaching silver),
  ``drift`` (fragments of the ``schema.drift`` warnings), ``extra`` (the new columns bronze
  keeps in ``_extra``).

Every record value is synthetic (generated identifiers with valid check digits unless a case
breaks them on purpose).

The package: :mod:`.common` (the :class:`Case` record, companions, shared values), one module
per feed's cases (:mod:`.moi`, :mod:`.lie`, :mod:`.lpc`, :mod:`.moa`, and :mod:`.pulled` for
the API and the database), and :mod:`.writer` (the corpus as a whole, written or compared).
"""

from __future__ import annotations

from tests.reliability.make_corpus.common import CORPUS, Case
from tests.reliability.make_corpus.writer import build, cases, differences, main, write

__all__ = ["CORPUS", "Case", "build", "cases", "differences", "main", "write"]
