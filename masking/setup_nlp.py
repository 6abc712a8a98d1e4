"""Set-up step (``make setup``): offline NLP resources for Presidio.

* a blank Chinese spaCy pipeline saved to ``<cache>/spacy/zh_blank`` (Presidio's NLP engine
  loads it from that path: no model download);
* the tldextract cache (``TLDEXTRACT_CACHE``) filled from the public suffix list snapshot the
  package ships, so that Presidio's e-mail recognizer never tries the internet.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def save_blank_zh(cache: Path) -> Path:
    """Save ``spacy.blank("zh")`` (character segmentation, no extra packages) to the cache."""
    import spacy

    target = cache / "spacy" / "zh_blank"
    if not (target / "meta.json").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        spacy.blank("zh").to_disk(target)
    return target


def prefill_tldextract(cache: Path) -> Path:
    """Fill tldextract's cache for its default extractor from the bundled snapshot."""
    target = cache / "tldextract"
    os.environ["TLDEXTRACT_CACHE"] = str(target)
    import tldextract
    from tldextract import suffix_list

    def offline(*_args: object, **_kwargs: object) -> str:
        raise suffix_list.SuffixListNotFound("offline set-up: use the bundled snapshot")

    suffix_list.find_first_response = offline
    extractor = tldextract.TLDExtract(cache_dir=str(target))
    assert extractor("mail.example.com.tw").suffix == "com.tw"
    tldextract.tldextract.TLD_EXTRACTOR = extractor
    return target


def main(argv: list[str]) -> int:
    """``python -m masking.setup_nlp CACHE_DIR``."""
    cache = Path(argv[1] if len(argv) > 1 else ".cache").resolve()
    print(f"spaCy blank zh pipeline: {save_blank_zh(cache)}")
    print(f"tldextract cache: {prefill_tldextract(cache)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
