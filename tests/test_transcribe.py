"""The real bundled model on real recordings from the shared corpus."""

import numpy as np
import pytest

from pipeline.audio import SAMPLE_RATE, read_audio
from pipeline.sentences import MAX_SECONDS
from pipeline.textnorm import normalise_words, word_error_rate
from pipeline.transcribe import DEFAULT_BATCH_SIZE, pick_compute_type, pick_device, resolve_model

from .conftest import CORPUS

pytestmark = pytest.mark.slow
PATHS = {"sequential": 0, "batched": DEFAULT_BATCH_SIZE}


@pytest.mark.parametrize("path", PATHS)
def test_jfk_matches_its_reference_text(transcriber, path):
    _, samples = read_audio(CORPUS / "jfk.flac")
    progress = []
    transcript = transcriber.transcribe(
        samples, batch_size=PATHS[path], on_progress=progress.append
    )
    text = " ".join(segment.text for segment in transcript.segments)
    assert normalise_words(text) == normalise_words((CORPUS / "jfk.txt").read_text())
    assert transcript.language == "en"
    assert transcript.duration == pytest.approx(11.0, abs=0.05)
    assert progress == sorted(progress) and progress[-1] > 9


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("sonnet", ["sonnet-p001", "sonnet-p002", "sonnet-p003"])
def test_sonnet_word_error_rate_under_0_2(transcriber, path, sonnet):
    _, samples = read_audio(CORPUS / f"{sonnet}.mp3")
    transcript = transcriber.transcribe(samples, batch_size=PATHS[path])
    text = " ".join(segment.text for segment in transcript.segments)
    wer = word_error_rate((CORPUS / f"{sonnet}.txt").read_text(encoding="utf-8"), text)
    assert wer < 0.2, f"{sonnet} {path}: WER {wer:.3f}\n{text}"


@pytest.mark.parametrize("path", PATHS)
def test_segments_are_sentence_sized_and_timed_by_words(transcriber, path):
    _, samples = read_audio(CORPUS / "sonnet-p002.mp3")
    transcript = transcriber.transcribe(samples, batch_size=PATHS[path])
    assert len(transcript.segments) >= 4
    for segment in transcript.segments:
        assert segment.words, segment.text
        assert segment.end - segment.start <= MAX_SECONDS
        assert segment.start == segment.words[0].start and segment.end == segment.words[-1].end
        assert all(a.start <= b.start for a, b in zip(segment.words, segment.words[1:]))


@pytest.mark.parametrize("path", PATHS)
def test_silence_yields_no_text(transcriber, path):
    silence = np.zeros(8 * SAMPLE_RATE, dtype=np.float32)
    quiet_noise = np.random.default_rng(0).normal(0, 0.001, 8 * SAMPLE_RATE).astype(np.float32)
    for samples in (silence, quiet_noise):
        assert transcriber.transcribe(samples, batch_size=PATHS[path]).segments == []


def test_bundled_model_is_a_local_folder_and_other_names_pass_through(tmp_path):
    assert (tmp_path.parent / "x").name == "x"
    bundled = resolve_model("tiny.en")
    assert bundled.endswith("model") and (CORPUS.parent / "corpus").is_dir()
    assert resolve_model("large-v3") == "large-v3"
    assert resolve_model(str(tmp_path)) == str(tmp_path)


def test_device_and_compute_type_choices():
    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") in {"cpu", "cuda"}
    assert pick_compute_type("auto", "cpu") == "int8"
    assert pick_compute_type("auto", "cuda") == "float16"
    assert pick_compute_type("int8_float16", "cuda") == "int8_float16"
