"""Text: tokenizers and vocabularies, language models (generation, the predictive keyboard), sequence
classification, and the corpora (bundled excerpts, loaders for installed packages)."""

from .classifier import ClassificationReport, SequenceClassifier, load_classifier
from .datasets import (
    MissingCorpusError,
    bundled_path,
    bundled_text,
    load_fortunes_es,
    load_names,
    load_reina_valera,
    load_rotten_tomatoes,
    load_shakespeare,
    read_text_file,
)
from .language_model import LanguageModel, Suggestions, load_language_model
from .seq2seq import Seq2Seq, TranslationScores, load_seq2seq
from .tagger import SequenceTagger, TaggingReport, load_tagger
from .tokenizers import CharTokenizer, WordTokenizer, normalize
from .vocab import Vocabulary

__all__ = [
    "LanguageModel",
    "Suggestions",
    "load_language_model",
    "SequenceClassifier",
    "ClassificationReport",
    "load_classifier",
    "SequenceTagger",
    "Seq2Seq",
    "TranslationScores",
    "load_seq2seq",
    "TaggingReport",
    "load_tagger",
    "CharTokenizer",
    "WordTokenizer",
    "normalize",
    "Vocabulary",
    "MissingCorpusError",
    "bundled_path",
    "bundled_text",
    "load_fortunes_es",
    "load_names",
    "load_reina_valera",
    "load_rotten_tomatoes",
    "load_shakespeare",
    "read_text_file",
]
