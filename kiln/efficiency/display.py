"""How the three marks (一码三标识) read and look: labels, colours from the configuration, badges."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kiln.efficiency.models import EfficiencyConfig, default_colours

LEVEL_LABELS = {
    "low": _("low-carbon"),
    "medium": _("medium-carbon"),
    "high": _("high-carbon"),
}
GRADE_LABELS = {
    1: _("grade 1: high efficiency"),
    2: _("grade 2: fairly high efficiency"),
    3: _("grade 3: near the industry average"),
    4: _("grade 4: fairly low efficiency"),
    5: _("grade 5: low efficiency"),
}
NEUTRAL_LABELS = {
    "high": _("high neutral rate"),
    "medium": _("medium neutral rate"),
    "low": _("low neutral rate"),
}
MARKS = {
    "level": _("Level benchmark (水平对标)"),
    "grade": _("Efficiency benchmark (效率对标)"),
    "neutral": _("Neutrality benchmark (中和对标), provisional"),
}
# The Chinese names the exports and the verification page print whatever the UI language.
LEVEL_ZH = {"low": "低碳", "medium": "中碳", "high": "高碳"}
NEUTRAL_ZH = {"high": "高", "medium": "中", "low": "低"}


@dataclass(frozen=True)
class Badge:
    mark: str  # level / grade / neutral
    key: str
    label: str
    colour: str
    text_colour: str
    short: str  # what the swatch shows: 低/中/高, the grade digit

    @property
    def title(self) -> str:
        return str(MARKS[self.mark])

    @property
    def provisional(self) -> bool:
        return self.mark == "neutral"


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (#rrggbb), by relative luminance."""
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return "#000000" if luminance > 0.179 else "#ffffff"


def _colour(config: EfficiencyConfig | None, mark: str, key: str) -> str:
    colours = config.colours if config is not None else default_colours()
    return colours.get(mark, {}).get(key) or default_colours()[mark][key]


def badges(result, config: EfficiencyConfig | None) -> list[Badge]:
    """The marks of a result that has them (a result without L has none)."""
    out = []
    if result.level:
        colour = _colour(config, "level", result.level)
        out.append(
            Badge(
                "level",
                result.level,
                str(LEVEL_LABELS[result.level]),
                colour,
                text_colour(colour),
                LEVEL_ZH[result.level][0],
            )
        )
    if result.grade:
        colour = _colour(config, "grade", str(result.grade))
        out.append(
            Badge(
                "grade",
                str(result.grade),
                str(GRADE_LABELS[result.grade]),
                colour,
                text_colour(colour),
                str(result.grade),
            )
        )
    if result.neutral_mark:
        colour = _colour(config, "neutral", result.neutral_mark)
        out.append(
            Badge(
                "neutral",
                result.neutral_mark,
                str(NEUTRAL_LABELS[result.neutral_mark]),
                colour,
                text_colour(colour),
                NEUTRAL_ZH[result.neutral_mark],
            )
        )
    return out
