"""Style packs: one folder per style, found on disk, checked before anything trusts them.

``meta`` models style.toml, ``weights`` reads and checks the weights, ``pack`` reads a pack
folder, ``writer`` writes one, ``discovery`` finds the installed ones. None of them imports
torch, so the one-shot command line can find and read a style without it.
"""

from inference.registry.discovery import SHIPPED_STYLES_DIR, StyleRegistry
from inference.registry.meta import NetSpec, StyleMeta
from inference.registry.pack import StylePack, load_pack
from inference.registry.writer import update_metrics, write_pack

__all__ = [
    "SHIPPED_STYLES_DIR",
    "NetSpec",
    "StyleMeta",
    "StylePack",
    "StyleRegistry",
    "load_pack",
    "update_metrics",
    "write_pack",
]
