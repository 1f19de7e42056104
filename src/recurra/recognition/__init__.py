"""Recognisers trained by CTC: frames of audio features, pen points or sensor readings in, text out.

``CTCRecognizer`` (``recognizer.py``) is the estimator; ``RecognizerNetwork`` (``network.py``) its network:
a strided-convolution front end, recurrent layers of any cell of the family, ``recurra.ctc.CTCHead``.
"""

from .network import RecognizerNetwork, batch_ctc_loss, subsampled_length
from .recognizer import CTCRecognizer, RecognitionScores, load_recognizer

__all__ = ["CTCRecognizer", "RecognitionScores", "RecognizerNetwork", "batch_ctc_loss", "load_recognizer", "subsampled_length"]
