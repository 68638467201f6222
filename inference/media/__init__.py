"""Media I/O: still images (``image``) and video (``video``), decoded to and encoded from
plain uint8 RGB arrays, with typed errors for whatever a user might send."""
