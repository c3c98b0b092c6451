# Type stubs of the native module (bindings/python/src); liveshade/__init__.py re-exports it.
import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy

__version__: str

Image = Union[str, "os.PathLike[str]", bytes, "numpy.ndarray"]
"""A path, the bytes of a JPEG or PNG file, or a numpy.uint8 array HxWx3 or HxWx4."""

class Error(RuntimeError):
    """liveshade failed: no GPU adapter, a GPU error, a lost device."""

class CoolingDownError(Error):
    """Too many failed sessions recently: new sessions are refused for a while."""

class ImageError(ValueError):
    """An image file could not be read or decoded."""

class SignatureError(ValueError):
    """A signed result that does not verify, or a key or nonce that is not one."""

def keygen() -> Tuple[str, str]:
    """A new Ed25519 key pair: (secret, public), 64 hex digits each."""

def verify(document: str, public_key: str, nonce: str) -> Dict[str, Any]:
    """The signed payload if the result is signed by that key over that nonce, unchanged."""

def version() -> Dict[str, Any]:
    """{"library": "0.1.0", "result_schema": 2, "weights": {file: sha256}}."""

def decode_image(image: Union[str, "os.PathLike[str]", bytes]) -> Tuple[int, int, bytes]:
    """Decodes a JPEG or PNG, EXIF orientation applied: (height, width, RGB bytes)."""

def adapters() -> List[Dict[str, str]]:
    """The GPU adapters found: name, backend, device_type, driver."""

class Liveness:
    """MiniFASNet's ensemble on one face (each face a check judges has its own)."""

    live: float
    label: str
    score: float
    minifasnet_v2: Tuple[float, float, float]
    minifasnet_v1se: Tuple[float, float, float]

class Face:
    """One face, in image pixels."""

    box: Tuple[float, float, float, float]
    score: float
    keypoints: List[Tuple[float, float]]
    landmarks: Optional[List[Tuple[float, float, float]]]
    liveness: Optional[Liveness]

class Report:
    """The result of one check."""

    @property
    def verdict(self) -> str:
        """ "live", "spoof", "no_face" or "inconclusive" (a quality gate failed: see reasons)."""
    @property
    def reasons(self) -> List[str]:
        """Why the verdict is "inconclusive" ("face_cut_by_border", "too_dark", ...); empty otherwise."""
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def faces(self) -> List[Face]:
        """The faces found, best first."""
    @property
    def timing_ms(self) -> Dict[str, float]: ...
    def to_dict(self) -> Dict[str, Any]:
        """The JSON contract of `liveshade check --json`, without "image"."""

class Verdict:
    """What a session concludes."""

    @property
    def verdict(self) -> str:
        """ "live", "spoof" or "inconclusive"."""
    @property
    def score(self) -> float: ...
    @property
    def frames_accepted(self) -> int: ...
    @property
    def frames_rejected(self) -> int: ...
    @property
    def reasons(self) -> List[str]: ...
    @property
    def blinks(self) -> int: ...
    @property
    def flatness(self) -> Optional[float]: ...
    def to_dict(self) -> Dict[str, Any]:
        """The JSON of `liveshade session --json`."""

class Session:
    """Many frames, one verdict (Engine.session)."""

    def push(self, image: Image, timestamp: Optional[float] = None, format: Optional[str] = None) -> Optional[Verdict]:
        """Checks a frame; the verdict once there is one, None before."""
    def finish(self) -> Verdict:
        """Ends the session now: the verdict, inconclusive if undecided."""
    @property
    def verdict(self) -> Optional[Verdict]: ...
    @property
    def challenge(self) -> Optional[str]:
        """Active mode: "blink", "turn_left", "turn_right" or "open_mouth"."""
    @property
    def frames(self) -> int: ...
    def signed(self, secret_key: str, nonce: str) -> str:
        """The verdict signed over the server's nonce (one JSON document)."""

class Engine:
    """A liveness engine on one GPU adapter."""

    def __init__(
        self,
        backend: str = "auto",
        adapter: Optional[str] = None,
        landmarks: bool = False,
        calibrate_box: bool = True,
        upright_crops: bool = True,
        max_faces: int = 2,
        warm_up: Optional[Tuple[int, int]] = (640, 480),
        max_failed_sessions: Optional[int] = None,
        pipeline_cache_dir: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> None:
        """warm_up: the frame size (width, height) checked once before this returns, so that
        the first real check runs at the steady state; None skips it. pipeline_cache_dir: an
        existing directory where the driver's compiled pipelines are kept between starts
        (adapters with wgpu's pipeline cache; written once, before any frame; the directory and
        file must be this user's or root's and writable by nobody else, or the file is not
        used: Engine.pipeline_cache says why); None reads and writes no file."""
    @property
    def adapter(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def pipeline_cache(self) -> Optional[Dict[str, Any]]:
        """None where no cache file is used; else path, offered_bytes (0: a cold start),
        not_read and not_written (None, or why: the file never stops an engine)."""
    def check(self, image: Image, format: Optional[str] = None) -> Report:
        """Checks one image; format is "RGB" (default for HxWx3), "BGR", "RGBA" or "BGRA"."""
    def session(
        self,
        active: bool = False,
        time_limit_s: Optional[float] = None,
        max_frames: Optional[int] = None,
        min_frames: Optional[int] = None,
        live_threshold: Optional[float] = None,
        spoof_threshold: Optional[float] = None,
        detect_every: Optional[int] = None,
        confirm_live: Optional[bool] = None,
    ) -> Session:
        """detect_every: BlazeFace at least once in this many frames (default 10); between,
        the face is followed from its landmarks; 1 runs BlazeFace on every frame.
        confirm_live=False: MiniFASNet's fused score decides passive mode alone (the
        published pipeline's rule). A value out of its range is a ValueError."""
