"""The installed styles: the packs shipped in the package and those of an extra folder."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from artisto.errors import StylePackError, UnknownStyle
from inference.registry.pack import PACK_FILES, StylePack, load_pack

log = logging.getLogger(__name__)

SHIPPED_STYLES_DIR = Path(__file__).resolve().parents[1] / "styles"


class StyleRegistry:
    """The installed styles by name. Immutable once built, so worker threads may share it."""

    def __init__(self, packs: Iterable[StylePack], searched: Iterable[Path] = ()) -> None:
        self._packs = {p.name: p for p in sorted(packs, key=lambda p: p.name)}
        self.searched: tuple[Path, ...] = tuple(searched)
        """The folders discovery looked in, for messages such as "no styles in ..."."""

    @classmethod
    def discover(
        cls, extra_dir: Path | None = None, *, shipped_dir: Path | None = None, verify: bool = True
    ) -> StyleRegistry:
        """Packs shipped in the package, then those of ``extra_dir``, which win on a name clash
        so that a deployment can replace a shipped style with a retrained one.

        ``verify`` checks every pack's weights and images (see ``load_pack``); a one-shot
        command passes False and verifies the one pack it uses.
        """
        shipped_dir = SHIPPED_STYLES_DIR if shipped_dir is None else shipped_dir
        if extra_dir is not None and not extra_dir.is_dir():
            raise StylePackError(f"{extra_dir}: styles folder does not exist")
        packs: dict[str, StylePack] = {}
        searched = [shipped_dir] + ([extra_dir] if extra_dir is not None else [])
        for folder in searched:
            found: dict[str, StylePack] = {}
            for pack in _packs_in(folder, verify=verify):
                if pack.name in found:
                    raise StylePackError(
                        f"{pack.meta_path}: style name {pack.name!r} is also used by "
                        f"{found[pack.name].path}"
                    )
                if pack.name in packs:
                    log.info(
                        "style.overridden",
                        extra={"style": pack.name, "path": str(pack.path)},
                    )
                found[pack.name] = pack
            packs.update(found)
        log.debug("style.discovered", extra={"count": len(packs), "names": ",".join(sorted(packs))})
        return cls(packs.values(), searched)

    def names(self) -> list[str]:
        return list(self._packs)

    def get(self, name: str) -> StylePack:
        try:
            return self._packs[name]
        except KeyError:
            installed = ", ".join(self._packs) or "none"
            raise UnknownStyle(f"unknown style {name!r} (installed: {installed})") from None

    def __iter__(self) -> Iterator[StylePack]:
        return iter(self._packs.values())

    def __len__(self) -> int:
        return len(self._packs)

    def __contains__(self, name: object) -> bool:
        return name in self._packs


def _packs_in(folder: Path, *, verify: bool) -> Iterator[StylePack]:
    """Subfolders holding any pack file; hidden ones (packs being written) are skipped."""
    if not folder.is_dir():
        return
    for sub in sorted(folder.iterdir()):
        hidden = sub.name.startswith((".", "_"))
        if sub.is_dir() and not hidden and any((sub / n).exists() for n in PACK_FILES):
            yield load_pack(sub, verify=verify)
