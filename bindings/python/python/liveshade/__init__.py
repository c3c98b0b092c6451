"""Face liveness on the GPU: BlazeFace, Face Mesh and MiniFASNet as WGSL compute shaders.

    import liveshade
    engine = liveshade.Engine(backend="auto")
    report = engine.check("face.jpg")        # or a numpy.uint8 array HxWx3 / HxWx4
    print(report.verdict)                    # "live", "spoof" or "no_face"

An array's pixels are copied once into memory zeroed after the call; every GPU buffer is
zeroed before a check returns; results hold no pixels.
"""

from ._liveshade import (
    CoolingDownError,
    Engine,
    Error,
    Face,
    ImageError,
    Liveness,
    Report,
    Session,
    SignatureError,
    Verdict,
    __version__,
    adapters,
    decode_image,
    keygen,
    verify,
    version,
)


def load_image(image):
    """Decodes a JPEG or PNG (a path or the file's bytes), its EXIF orientation applied, to
    a read-only numpy.uint8 array HxWx3 (RGB), for callers without an image library."""
    import numpy

    height, width, rgb = decode_image(image)
    return numpy.frombuffer(rgb, dtype=numpy.uint8).reshape(height, width, 3)


__all__ = [
    "CoolingDownError",
    "Engine",
    "Error",
    "Face",
    "ImageError",
    "Liveness",
    "Report",
    "Session",
    "SignatureError",
    "Verdict",
    "__version__",
    "adapters",
    "decode_image",
    "keygen",
    "load_image",
    "verify",
    "version",
]
