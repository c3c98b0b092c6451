from typing import Union
import os

import numpy

from ._liveshade import (
    CoolingDownError as CoolingDownError,
    Engine as Engine,
    Error as Error,
    Face as Face,
    ImageError as ImageError,
    Liveness as Liveness,
    Report as Report,
    Session as Session,
    SignatureError as SignatureError,
    Verdict as Verdict,
    __version__ as __version__,
    adapters as adapters,
    decode_image as decode_image,
    keygen as keygen,
    verify as verify,
    version as version,
)

def load_image(image: Union[str, "os.PathLike[str]", bytes]) -> numpy.ndarray:
    """Decodes a JPEG or PNG to a read-only numpy.uint8 array HxWx3 (RGB)."""
