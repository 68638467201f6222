"""The face check: does a stylized portrait keep its face?

OpenCV's frontal-face Haar cascade counts the large faces in the photo and in the output, both
at the style measure's size (longest side 384 px). Only faces whose side is at least
``MIN_FACE_FRACTION`` of the image's shorter side count: at 384 px the cascade also "finds"
small faces on a panda, a dog and a castle, and a small face in a crowd may be painted over (as
every peer and Gatys optimisation do), while a selfie's face must stay.

OpenCV is a training extra (``opencv-python-headless<5``: the 5.0 wheels ship no cascades).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from artisto.errors import ArtistoError
from training.style_strength import resize_longest

MIN_FACE_FRACTION = 0.25
"""Smallest face counted, as a fraction of the shorter side (a portrait's face, not a crowd's)."""
CASCADE_FILE = "haarcascade_frontalface_default.xml"


@cache
def _cascade() -> Any:
    try:
        import cv2
    except ImportError:
        raise ArtistoError(
            "the face check needs OpenCV: pip install -e '.[train]' (opencv-python-headless<5)"
        ) from None
    classifier = cv2.CascadeClassifier(str(Path(cv2.__file__).parent / "data" / CASCADE_FILE))
    if classifier.empty():
        raise ArtistoError(
            f"OpenCV has no {CASCADE_FILE} (the 5.x wheels ship none): install opencv<5"
        )
    return classifier


def count_faces(image: Image.Image) -> int:
    """Large frontal faces in the image, seen at the style measure's size."""
    import cv2

    small = resize_longest(image)
    gray = cv2.cvtColor(np.asarray(small), cv2.COLOR_RGB2GRAY)
    side = max(1, round(min(small.size) * MIN_FACE_FRACTION))
    faces = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    return len(faces)


@dataclass(frozen=True)
class FaceCheck:
    in_photos: int
    in_outputs: int

    @property
    def kept(self) -> float | None:
        """Faces found in the outputs over those in the photos; None without any portrait."""
        return min(1.0, self.in_outputs / self.in_photos) if self.in_photos else None


def face_check(pairs: Iterable[tuple[Image.Image, Image.Image]]) -> FaceCheck:
    """Counts over (photo, output) pairs; an output is credited with at most its photo's faces."""
    in_photos = in_outputs = 0
    for photo, output in pairs:
        found = count_faces(photo)
        in_photos += found
        in_outputs += min(found, count_faces(output)) if found else 0
    return FaceCheck(in_photos, in_outputs)
