"""Connectionist Temporal Classification: an alphabet with a blank, the loss, decoding, error rates.

For models that read frames (audio features, pen points, sensor readings) and write text whose
alignment to the frames is unknown: ``CTCHead`` gives per-frame log-probabilities, ``ctc_loss`` trains
them (refusing transcripts too long for their frames), ``greedy_decode`` and ``prefix_beam_search``
(optionally with a character language model, ``CharNgram``) read them out, ``best_choices`` picks the most
probable of known texts, ``cer`` and ``wer`` score the text.
``recurra.CTCRecognizer`` (``recurra.recognition``) is the estimator built from them.
"""

from .alphabet import BLANK, Alphabet
from .char_ngram import CharNgram
from .choices import best_choices
from .decoding import collapse, greedy_decode, prefix_beam_search
from .error_rates import cer, wer
from .loss import CTCHead, ctc_loss, frames_needed

__all__ = [
    "BLANK",
    "Alphabet",
    "CTCHead",
    "CharNgram",
    "best_choices",
    "cer",
    "collapse",
    "ctc_loss",
    "frames_needed",
    "greedy_decode",
    "prefix_beam_search",
    "wer",
]
