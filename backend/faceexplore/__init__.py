"""FaceExplore: self-hosted face search for event photo galleries."""

__version__ = "0.1.0"
