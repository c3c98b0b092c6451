"""The Python package as a caller uses it and misuses it: the CLI's verdicts on the samples
from paths, bytes and arrays in every layout, sessions over a shared sequence, bad input as
TypeError or ValueError, the GIL released during GPU work, no reference kept to a frame.

Needs a GPU adapter (lavapipe in CI) and the CLI built (target/debug/liveshade, or
LIVESHADE_CLI): a missing one fails, never skips."""

import hashlib
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import numpy
import pytest

import liveshade

ROOT = pathlib.Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "samples").glob("*.jpg"))
SEQUENCE = ROOT / "tests" / "sequences" / "brbk7n"
BACKEND = os.environ.get("WGPU_BACKEND") or "auto"


def cli(*args):
    """The CLI's JSON lines for the same inputs, from the build beside this package."""
    exe = pathlib.Path(os.environ.get("LIVESHADE_CLI", ROOT / "target" / "debug" / "liveshade"))
    assert exe.exists(), f"the CLI is not built at {exe} (cargo build, or set LIVESHADE_CLI)"
    out = subprocess.run([str(exe), *args, "--json"], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def engine():
    return liveshade.Engine(backend=BACKEND)


@pytest.fixture(scope="module")
def cli_reports():
    return {pathlib.Path(r["image"]).name: r for r in cli("check", *map(str, SAMPLES))}


def assert_same_report(report, want):
    got = report.to_dict()
    assert report.verdict == want["verdict"] == got["verdict"]
    assert len(report.faces) == len(want["faces"])
    for face, want_face in zip(report.faces, want["faces"]):
        assert face.box == pytest.approx(tuple(want_face["box"]), abs=1e-4)
        assert face.score == pytest.approx(want_face["score"], abs=1e-6)
        if "liveness" in want_face:
            assert face.liveness.live == pytest.approx(want_face["liveness"]["live"], abs=1e-6)
            assert face.liveness.label == want_face["liveness"]["label"]
        else:
            assert face.liveness is None
    assert {k: v for k, v in got.items() if k != "timing_ms"} == {k: v for k, v in want.items() if k not in ("timing_ms", "image")}


def test_samples_give_the_cli_verdicts_from_paths_bytes_and_arrays(engine, cli_reports):
    assert len(SAMPLES) == 3
    for path in SAMPLES:
        want = cli_reports[path.name]
        assert_same_report(engine.check(str(path)), want)
        assert_same_report(engine.check(path), want)
        assert_same_report(engine.check(path.read_bytes()), want)
        rgb = liveshade.load_image(path)
        assert rgb.dtype == numpy.uint8 and rgb.shape[2] == 3
        assert_same_report(engine.check(rgb), want)
        # OpenCV's BGR, RGBA and BGRA, and a crop view whose rows are further apart than a row:
        # the GPU converts each to the same RGB, so the results are the same to the bit.
        bgr = numpy.ascontiguousarray(rgb[..., ::-1])
        assert_same_report(engine.check(bgr, format="BGR"), want)
        alpha = numpy.full(rgb.shape[:2] + (1,), 255, numpy.uint8)
        assert_same_report(engine.check(numpy.concatenate([rgb, alpha], axis=2)), want)
        assert_same_report(engine.check(numpy.concatenate([bgr, alpha], axis=2), format="bgra"), want)
        padded = numpy.zeros((rgb.shape[0], rgb.shape[1] + 7, 3), numpy.uint8)
        padded[:, : rgb.shape[1]] = rgb
        assert_same_report(engine.check(padded[:, : rgb.shape[1]]), want)


def test_verdicts_are_the_contract_strings_and_faces_are_typed(engine):
    live = engine.check(ROOT / "samples" / "live_T1.jpg")
    assert live.verdict == "live" and live.width > 0 and live.height > 0
    face = live.faces[0]
    assert isinstance(face, liveshade.Face) and isinstance(face.liveness, liveshade.Liveness)
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= live.width and 0 <= y0 < y1 <= live.height
    assert len(face.keypoints) == 6 and face.landmarks is None
    assert sum(face.liveness.minifasnet_v2) == pytest.approx(1.0, abs=1e-5)
    assert set(live.timing_ms) == {"upload", "record", "gpu", "readback", "total"}
    blank = engine.check(numpy.zeros((120, 160, 3), numpy.uint8))
    assert blank.verdict == "no_face" and blank.faces == [] and blank.to_dict()["faces"] == []


def test_landmarks_come_with_the_option(cli_reports):
    with_landmarks = liveshade.Engine(backend=BACKEND, landmarks=True, warm_up=None)
    report = with_landmarks.check(ROOT / "samples" / "live_T1.jpg")
    points = report.faces[0].landmarks
    assert len(points) == 468 and all(len(p) == 3 for p in points)
    assert report.to_dict()["faces"][0]["landmarks"] == pytest.approx(numpy.array(points), abs=1e-4)


@pytest.mark.parametrize(
    "image, error, words",
    [
        (numpy.zeros((64, 64, 3), numpy.float32), TypeError, "uint8"),
        (numpy.zeros((64, 64, 3), numpy.uint16), TypeError, "uint8"),
        ([[0, 0, 0]], TypeError, "numpy.uint8 array"),
        (None, TypeError, "numpy.uint8 array"),
        (12, TypeError, "numpy.uint8 array"),
        (numpy.zeros((64, 64), numpy.uint8), ValueError, "HxWx3"),
        (numpy.zeros((64, 64, 2), numpy.uint8), ValueError, "HxWx3"),
        (numpy.zeros((2, 64, 64, 3), numpy.uint8), ValueError, "HxWx3"),
        (numpy.zeros((64, 128, 3), numpy.uint8)[:, ::2], ValueError, "contiguous"),
        (numpy.zeros((64, 64, 3), numpy.uint8)[..., ::-1], ValueError, "contiguous"),
        (numpy.zeros((64, 64, 3), numpy.uint8).transpose(1, 0, 2), ValueError, "contiguous"),
        (numpy.zeros((0, 64, 3), numpy.uint8), ValueError, "nothing to check"),
        (numpy.zeros((1, 100_000, 3), numpy.uint8), ValueError, "largest side"),
        (b"not an image at all", liveshade.ImageError, "<memory>"),
        ((ROOT / "samples" / "live_T1.jpg").read_bytes()[:200], liveshade.ImageError, "<memory>"),
        ("/nonexistent/face.jpg", liveshade.ImageError, "/nonexistent/face.jpg"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_bad_input_is_a_clear_type_or_value_error(engine, image, error, words):
    with pytest.raises(error, match=None) as caught:
        engine.check(image)
    assert words in str(caught.value), str(caught.value)


def image_array(path):
    """A file's pixels as an HxWx3 array (EXIF orientation applied), by the library's decoder."""
    height, width, rgb = liveshade.decode_image(str(path))
    return numpy.frombuffer(rgb, numpy.uint8).reshape(height, width, 3)


def test_each_face_gets_its_own_liveness(engine):
    # A live face beside a tablet replaying one: two faces, each judged, and the check
    # inconclusive because a terminal expects one person.
    live = image_array(ROOT / "samples" / "live_T1.jpg")
    replay = image_array(ROOT / "samples" / "spoof_replay_tablet_F2.jpg")
    report = engine.check(numpy.ascontiguousarray(numpy.concatenate([live, replay], axis=1)))
    assert len(report.faces) >= 2 and report.verdict == "inconclusive" and "several_faces" in report.reasons
    labels = {("left" if (f.box[0] + f.box[2]) / 2 < live.shape[1] else "right"): f.liveness.label for f in report.faces[:2]}
    assert labels == {"left": "live", "right": "spoof"}


def test_a_pipeline_cache_directory_gets_one_file_that_checks_leave_alone(engine, tmp_path):
    tmp_path.chmod(0o700)  # whatever the umask: a group-writable directory is not trusted
    cached = liveshade.Engine(backend=BACKEND, warm_up=None, pipeline_cache_dir=tmp_path)
    files = list(tmp_path.iterdir())
    assert engine.pipeline_cache is None  # no directory named
    if cached.backend == "vulkan":
        assert len(files) == 1 and files[0].read_bytes().startswith(b"liveshade pipelines1")
        assert cached.pipeline_cache == {"path": str(files[0]), "offered_bytes": 0, "not_read": None, "not_written": None}
        again = liveshade.Engine(backend=BACKEND, warm_up=None, pipeline_cache_dir=tmp_path).pipeline_cache
        assert again["offered_bytes"] > 0 and again["not_read"] is None, again
    else:
        assert files == []  # wgpu keeps no pipeline cache on other APIs
        assert cached.pipeline_cache is None
    before = [f.read_bytes() for f in files]
    reports = [cached.check(str(path)).to_dict() for path in SAMPLES]
    assert [f.read_bytes() for f in files] == before
    for report, path in zip(reports, SAMPLES):
        expected = engine.check(str(path)).to_dict()
        assert report["faces"] == expected["faces"], path


def test_bad_formats_and_options_are_value_errors(engine):
    rgb = numpy.zeros((64, 64, 3), numpy.uint8)
    with pytest.raises(ValueError, match="unknown format"):
        engine.check(rgb, format="YUV9")
    with pytest.raises(ValueError, match="needs HxWx4"):
        engine.check(rgb, format="BGRA")
    with pytest.raises(ValueError, match="for arrays"):
        engine.check(str(SAMPLES[0]), format="BGR")
    with pytest.raises(ValueError, match="unknown backend"):
        liveshade.Engine(backend="glide")
    with pytest.raises(ValueError, match="max_faces"):
        liveshade.Engine(backend=BACKEND, max_faces=0)
    with pytest.raises(ValueError, match="warm_up"):
        liveshade.Engine(backend=BACKEND, warm_up=(9000, 480))
    with pytest.raises(liveshade.Error, match="not an existing directory"):
        liveshade.Engine(backend=BACKEND, warm_up=None, pipeline_cache_dir="/nonexistent/liveshade-cache")
    with pytest.raises(TypeError):
        liveshade.Engine(backend=BACKEND, warm_up=None, pipeline_cache_dir=3)
    with pytest.raises(liveshade.Error, match="no GPU adapter"):
        liveshade.Engine(backend=BACKEND, adapter="no adapter has this name")
    with pytest.raises(ValueError, match="live_threshold"):
        engine.session(live_threshold=1.5)
    with pytest.raises(ValueError, match="detect_every"):
        engine.session(detect_every=0)
    # The same ranges as the C ABI's (both go through SessionOverrides).
    with pytest.raises(ValueError, match="max_frames is 0"):
        engine.session(max_frames=0)
    with pytest.raises(ValueError, match="time_limit_s is 0"):
        engine.session(time_limit_s=0.0)
    with pytest.raises(ValueError, match="spoof_threshold 0.3 is not under live_threshold 0.2"):
        engine.session(live_threshold=0.2)
    with pytest.raises(TypeError):
        engine.session(confirm_live="no")
    assert engine.session(confirm_live=False) is not None
    with pytest.raises(TypeError):
        engine.check()


def test_no_reference_to_the_frame_is_kept(engine):
    rgb = liveshade.load_image(SAMPLES[0])
    before = sys.getrefcount(rgb)
    for _ in range(3):
        engine.check(rgb)
    assert sys.getrefcount(rgb) == before
    report = engine.check(rgb)
    # No pixels in any result: the contract's JSON of a face is a few hundred bytes.
    assert len(json.dumps(report.to_dict())) < 2000


def test_the_gil_is_released_while_the_gpu_works(engine):
    rgb = liveshade.load_image(SAMPLES[0])
    span = {}

    def check():
        span["start"] = time.monotonic()
        engine.check(rgb)
        span["end"] = time.monotonic()

    worker = threading.Thread(target=check)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.monotonic())
    worker.join()
    # Held through the check, the GIL would stop this thread from the start to the end; the
    # ticks in between (one every few microseconds when it runs) say it was released.
    start, end = span["start"], span["end"]
    inside = [t for t in ticks if start + 0.1 * (end - start) < t < end - 0.1 * (end - start)]
    assert len(inside) > 100, f"{len(inside)} ticks in a {end - start:.3f} s check"


def test_one_engine_serves_several_threads(engine, cli_reports):
    results = {}

    def check(path):
        results[path.name] = [engine.check(path).verdict for _ in range(2)]

    threads = [threading.Thread(target=check, args=(p,)) for p in SAMPLES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {p.name: [cli_reports[p.name]["verdict"]] * 2 for p in SAMPLES}


def test_a_session_over_a_shared_sequence_gives_the_cli_verdict(engine):
    want = cli("session", str(SEQUENCE))
    assert len(want) == 1
    want = want[0]
    session = engine.session(active=False)
    assert session.challenge is None and session.verdict is None
    verdict = None
    frames = sorted(SEQUENCE.glob("*.jpg"))
    for i, path in enumerate(frames):
        verdict = session.push(path, timestamp=i / 25.0)
        if verdict is not None:
            break
    assert isinstance(verdict, liveshade.Verdict)
    assert verdict.verdict == want["verdict"] == "live"
    assert verdict.frames_accepted == want["frames"]["accepted"] and session.frames == verdict.frames_accepted
    assert verdict.score == pytest.approx(want["score"], abs=1e-6)
    assert verdict.to_dict() == want
    # Once decided, the session checks nothing more and says the same.
    assert session.push(numpy.zeros((8, 8, 3), numpy.uint8)).to_dict() == want
    assert session.finish().to_dict() == want


def test_sessions_finish_inconclusive_and_cool_down_after_failures():
    engine = liveshade.Engine(backend=BACKEND, max_failed_sessions=1, warm_up=None)
    active = engine.session(active=True)
    assert active.challenge in {"blink", "turn_left", "turn_right", "open_mouth"}
    early = engine.session()
    assert early.push(SAMPLES[0], timestamp=0.0) is None
    verdict = early.finish()
    assert verdict.verdict == "inconclusive" and verdict.reasons
    with pytest.raises(liveshade.CoolingDownError, match="refused"):
        engine.session()


def test_version_names_the_weights_built_in():
    info = liveshade.version()
    assert info["library"] == liveshade.__version__ == "0.1.0"
    assert info["result_schema"] == 2
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "weights").glob("*.safetensors")}
    assert info["weights"] == files and len(files) == 4
    assert any(a["backend"] in ("vulkan", "gl", "metal", "dx12") for a in liveshade.adapters())


def test_a_signed_verdict_verifies_and_a_replayed_or_changed_one_does_not(engine):
    secret, public = liveshade.keygen()
    assert len(secret) == len(public) == 64 and secret != public
    nonce = "00112233445566778899aabbccddeeff"
    session = engine.session()
    with pytest.raises(liveshade.Error, match="no verdict yet"):
        session.signed(secret, nonce)
    verdict = session.finish()
    document = session.signed(secret, nonce)
    payload = liveshade.verify(document, public, nonce)
    assert payload["result"] == verdict.to_dict() and payload["nonce"] == nonce and payload["kind"] == "session"
    with pytest.raises(liveshade.SignatureError, match="another nonce"):
        liveshade.verify(document, public, "ffeeddccbbaa99887766554433221100")
    with pytest.raises(liveshade.SignatureError, match="another key"):
        liveshade.verify(document, liveshade.keygen()[1], nonce)
    changed = json.loads(document)
    changed["signed"] = changed["signed"].replace('"verdict":"inconclusive"', '"verdict":"live"')
    with pytest.raises(liveshade.SignatureError, match="does not match"):
        liveshade.verify(json.dumps(changed), public, nonce)
    with pytest.raises(liveshade.SignatureError, match="nonce"):
        session.signed(secret, "12")
