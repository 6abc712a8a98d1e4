"""The engine: a Presidio analyzer with only the Taiwan recognizers (:data:`RECOGNIZERS`) on the
blank spaCy ``zh`` pipeline, built once per process, and the anonymizer that replaces findings
by entity tags.

Contract: nothing is downloaded (the spaCy pipeline is read from a path, else
:func:`build_analyzer` refuses); :func:`get_analyzer` and the anonymizer are built on first use
under one lock and then shared by every thread of the process (Spark's Python workers reuse
them across batches); :func:`analyze` returns non-overlapping findings sorted by start and skips
the engine for texts the prefilter rules out; :func:`redact` replaces each finding by
``<ENTITY>``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig

from masking.recognizers.addresses import TwAddressRecognizer
from masking.recognizers.base import ENTITIES, LANGUAGE, SCORE_THRESHOLD, TaiwanRecognizer
from masking.recognizers.contact import EmailRecognizer, TwBankAccountRecognizer, TwPhoneRecognizer
from masking.recognizers.handles import SocialHandleRecognizer
from masking.recognizers.ids import TwBusinessIdRecognizer, TwNationalIdRecognizer
from masking.recognizers.names import KnownNamesRecognizer, TwPersonRecognizer
from masking.recognizers.prefilter import needs_analysis

SPACY_MODEL_ENV: Final = "LAKEHOUSE_SPACY_MODEL"
DEFAULT_SPACY_MODEL: Final = Path(__file__).resolve().parents[2] / ".cache" / "spacy" / "zh_blank"

RECOGNIZERS: Final[tuple[Callable[[], TaiwanRecognizer], ...]] = (
    TwNationalIdRecognizer,
    TwPhoneRecognizer,
    EmailRecognizer,
    TwBankAccountRecognizer,
    TwBusinessIdRecognizer,
    TwAddressRecognizer,
    TwPersonRecognizer,
    SocialHandleRecognizer,
)
"""The recognizers :func:`build_analyzer` registers."""


def _model_path(spacy_model_path: str | None) -> Path:
    path = Path(spacy_model_path or os.environ.get(SPACY_MODEL_ENV) or DEFAULT_SPACY_MODEL)
    if not path.exists():
        # Presidio would try to download a model of that name: refuse instead (offline).
        raise FileNotFoundError(
            f"spaCy pipeline not found at {path} (set {SPACY_MODEL_ENV}, or run `make` to "
            "prepare .cache/spacy/zh_blank)"
        )
    return path


def build_analyzer(spacy_model_path: str | None = None) -> AnalyzerEngine:
    """A Presidio analyzer for Chinese with only the Taiwan recognizers (:data:`RECOGNIZERS`).

    The NLP engine is spaCy on the blank Chinese pipeline at ``spacy_model_path`` (else
    ``$LAKEHOUSE_SPACY_MODEL``, else ``<repo>/.cache/spacy/zh_blank``); nothing is downloaded.
    Presidio's default (English) recognizers are not registered.
    """
    path = _model_path(spacy_model_path)
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": LANGUAGE, "model_name": str(path)}],
        }
    )
    registry = RecognizerRegistry(
        recognizers=[make() for make in RECOGNIZERS], supported_languages=[LANGUAGE]
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=provider.create_engine(),
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
    )


_LOCK = threading.Lock()
_ENGINES: dict[str, AnalyzerEngine] = {}
_ANONYMIZER: list[AnonymizerEngine] = []


def get_analyzer() -> AnalyzerEngine:
    """The process's analyzer (built on first use, then reused)."""
    with _LOCK:
        engine = _ENGINES.get("default")
        if engine is None:
            engine = _ENGINES["default"] = build_analyzer()
        return engine


def resolve_overlaps(results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Non-overlapping findings, sorted by start: of two overlapping findings the higher score
    wins, then the longer one."""
    kept: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start)):
        if all(r.end <= k.start or k.end <= r.start for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: (r.start, r.end))


def analyze(text: str, known_names: Sequence[str] = ()) -> list[RecognizerResult]:
    """The personal data in ``text``: non-overlapping findings sorted by start.

    ``known_names`` are names known from the same record (found anywhere in the text). Texts that
    :func:`needs_analysis` rules out are not analysed at all.
    """
    if not text or not needs_analysis(text, known_names):
        return []
    ad_hoc: list[EntityRecognizer] | None = (
        [KnownNamesRecognizer(known_names)] if known_names else None
    )
    results = get_analyzer().analyze(text=text, language=LANGUAGE, ad_hoc_recognizers=ad_hoc)
    return resolve_overlaps(results)


def _anonymizer() -> AnonymizerEngine:
    with _LOCK:
        if not _ANONYMIZER:
            _ANONYMIZER.append(AnonymizerEngine())
        return _ANONYMIZER[0]


_OPERATORS: Final = {
    entity: OperatorConfig("replace", {"new_value": f"<{entity}>"}) for entity in ENTITIES
}
_OPERATORS["DEFAULT"] = OperatorConfig("replace", {"new_value": "<PII>"})


def redact(text: str, results: Sequence[RecognizerResult]) -> str:
    """``text`` with every finding replaced by its entity tag (``<TW_NATIONAL_ID>``)."""
    if not results:
        return text
    return (
        _anonymizer()
        .anonymize(
            text=text,
            analyzer_results=resolve_overlaps(results),  # type: ignore[arg-type]
            operators=_OPERATORS,
            conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        )
        .text
    )
