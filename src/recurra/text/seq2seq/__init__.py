"""Text to text (many to many, unaligned): ``Seq2Seq``, an encoder–decoder with attention, for translation
and summarisation; its network, decoding, subword tokens, metrics, baselines and files."""

from .estimator import Seq2Seq, TranslationScores, load_seq2seq

__all__ = ["Seq2Seq", "TranslationScores", "load_seq2seq"]
