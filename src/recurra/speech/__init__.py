"""Speech to text: ``SpeechRecognizer`` (audio -> log-mel frames -> recurrent CTC network -> text), Spanish
speech made by code for training (``synthetic_speech``), real recordings to test on (``asterisk_prompts``) and
of a second speaker to train on (``colombian_prompts``, ``recordings_through_channels``)
and Spanish numbers and dates in words (``number_words``, ``spoken_texts``, ``fold``)."""

from .asterisk import KINDS, Prompt, asterisk_prompts
from .bundled import bundled_model_path, spanish_model
from .colombian import colombian_prompts, colombian_training_speech
from .features import audio_samples, running_normalize, speech_frames
from .recognizer import SpeechRecognizer
from .spanish import fold, grammar_texts, number_words, spoken_text, spoken_texts
from .synthetic import random_channel, recordings_through_channels, synthetic_speech, synthetic_utterance

__all__ = [
    "KINDS",
    "Prompt",
    "SpeechRecognizer",
    "asterisk_prompts",
    "audio_samples",
    "bundled_model_path",
    "colombian_prompts",
    "colombian_training_speech",
    "fold",
    "grammar_texts",
    "number_words",
    "random_channel",
    "recordings_through_channels",
    "running_normalize",
    "speech_frames",
    "spanish_model",
    "spoken_text",
    "spoken_texts",
    "synthetic_speech",
    "synthetic_utterance",
]
