"""Labels of the styles sheet fit their picture."""

from __future__ import annotations

from PIL import ImageFont

from training.tools.sheet import figures_lines, shorten

FONT = ImageFont.load_default(14)
TITLE = "The Benzaiten Shrine at Inokashira in Snow"


def test_a_title_that_fits_is_kept_whole() -> None:
    assert shorten(TITLE, FONT.getlength(TITLE), FONT) == TITLE


def test_a_long_title_keeps_whole_words_that_fit_and_an_ellipsis() -> None:
    short = shorten(TITLE, 180, FONT)
    kept = short.removesuffix("…").split()
    assert short.endswith("…") and kept == TITLE.split()[: len(kept)] and len(kept) >= 2
    assert FONT.getlength(short) <= 180
    one_word_more = " ".join(TITLE.split()[: len(kept) + 1]) + "…"
    assert FONT.getlength(one_word_more) > 180


def test_the_figures_lines_show_what_was_measured() -> None:
    measured = {"style_score": -0.5975, "noise_flicker": 0.6279,
                "clip_flicker": 0.7055, "clip_flicker_input": 0.3259}  # fmt: skip
    assert figures_lines(measured) == ("style −0.60 · noise 0.63", "clip 2.2×")
    shown = measured | {"clip_flicker_shown": 0.4}
    assert figures_lines(shown) == ("style −0.60 · noise 0.63", "clip 2.2×, shown 1.2×")
    assert figures_lines({"noise_flicker": 0.62}) == ("noise 0.62", "")
    assert figures_lines({}) == ("", "")
