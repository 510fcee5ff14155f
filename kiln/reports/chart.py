"""Server-side charts for reports: drawn once as a list of shapes, written as SVG (PDF, pages) or PNG (DOCX).

No JavaScript anywhere: the PDF embeds the SVG inline and WeasyPrint draws it; Word gets a PNG
drawn with Pillow from the same shapes (Word's SVG support is not something python-docx offers).
Text uses the report's CJK font, so Chinese labels render in both.

Two charts:

- ``monthly_chart``: tCO2 per month stacked by source category (exports and recovery below zero);
- ``category_chart``: horizontal bars of tCO2 per source category (monthly reports).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from functools import cache
from xml.sax.saxutils import escape

from django.conf import settings

# Colours per source category (colour-blind-safe-ish, printable).
COLOURS = {
    "combustion": "#b4441f",
    "process": "#7a5195",
    "electricity_purchased": "#1f6fb4",
    "electricity_exported": "#7fb3e0",
    "heat_purchased": "#d9a400",
    "heat_exported": "#f0d37a",
    "recovery": "#2e7d32",
    "biomass": "#8d8d8d",
}
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, WenQuanYi Micro Hei, sans-serif"


@dataclass
class Scene:
    width: int
    height: int
    shapes: list[tuple] = field(default_factory=list)

    def rect(self, x, y, w, h, fill):
        self.shapes.append(("rect", x, y, w, h, fill))

    def line(self, x1, y1, x2, y2, stroke="#999999", width=1.0):
        self.shapes.append(("line", x1, y1, x2, y2, stroke, width))

    def text(self, x, y, content, size=11, anchor="start", fill="#1d2430"):
        self.shapes.append(("text", x, y, str(content), size, anchor, fill))

    # --- output -----------------------------------------------------------------------------------

    def svg(self, title: str = "") -> str:
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'width="{self.width}" height="{self.height}" role="img" font-family="{FONT_FAMILY}">'
        ]
        if title:
            out.append(f"<title>{escape(title)}</title>")
        for shape in self.shapes:
            kind = shape[0]
            if kind == "rect":
                _, x, y, w, h, fill = shape
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}"/>'
                )
            elif kind == "line":
                _, x1, y1, x2, y2, stroke, width = shape
                out.append(
                    f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" stroke-width="{width}"/>'
                )
            else:
                _, x, y, content, size, anchor, fill = shape
                out.append(
                    f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">'
                    f"{escape(content)}</text>"
                )
        out.append("</svg>")
        return "".join(out)

    def png(self, scale: float = 2.0) -> bytes:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (int(self.width * scale), int(self.height * scale)), "white")
        draw = ImageDraw.Draw(image)
        for shape in self.shapes:
            kind = shape[0]
            if kind == "rect":
                _, x, y, w, h, fill = shape
                if w > 0 and h > 0:
                    x0, y0 = x * scale, y * scale
                    # A bar thinner than a pixel is still drawn one pixel wide (Pillow wants x1 ≥ x0, y1 ≥ y0).
                    x1, y1 = max(x0, (x + w) * scale - 1), max(y0, (y + h) * scale - 1)
                    draw.rectangle([x0, y0, x1, y1], fill=fill)
            elif kind == "line":
                _, x1, y1, x2, y2, stroke, width = shape
                draw.line(
                    [x1 * scale, y1 * scale, x2 * scale, y2 * scale],
                    fill=stroke,
                    width=max(1, int(width * scale)),
                )
            else:
                _, x, y, content, size, anchor, fill = shape
                font = _pil_font(int(size * scale))
                pil_anchor = {"start": "ls", "middle": "ms", "end": "rs"}[anchor]
                draw.text((x * scale, y * scale), content, fill=fill, font=font, anchor=pil_anchor)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False)
        return buffer.getvalue()


@cache
def _font_path() -> str | None:
    configured = getattr(settings, "KILN_REPORT_FONT_FILE", "")
    candidates = [configured] if configured else []
    candidates += [
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    ]
    import os

    return next((c for c in candidates if c and os.path.exists(c)), None)


@cache
def _pil_font(size: int):
    from PIL import ImageFont

    path = _font_path()
    if path is None:
        return ImageFont.load_default(size)
    # In Noto Sans CJK's collection, face 2 is the Simplified Chinese one (SC).
    index = 2 if path.endswith("NotoSansCJK-Regular.ttc") else 0
    return ImageFont.truetype(path, size, index=index)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (low ≤ 0 ≤ high)."""
    span = high - low
    if span <= 0:
        return [0.0, 1.0]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def _short(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def monthly_chart(
    months: list[str], series: dict[str, list[float]], labels: dict[str, str], *, unit: str
) -> Scene:
    """Stacked bars per month: positive categories stacked up from 0, negative ones down."""
    width, height = 640, 300
    left, right, top, bottom = 56, 12, 24, 64
    scene = Scene(width, height)
    n = max(len(months), 1)
    ups = [sum(max(series[c][i], 0.0) for c in series) for i in range(len(months))]
    downs = [sum(min(series[c][i], 0.0) for c in series) for i in range(len(months))]
    ticks = nice_ticks(min([0.0, *downs]), max([0.0, *ups]))
    low, high = ticks[0], ticks[-1]
    plot_h = height - top - bottom

    def y_of(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    for tick in ticks:
        y = y_of(tick)
        scene.line(left, y, width - right, y, stroke="#dde2ea" if tick else "#5b6472")
        scene.text(left - 6, y + 4, _short(tick), size=10, anchor="end", fill="#5b6472")
    scene.text(left - 6, top - 12, unit, size=10, anchor="end", fill="#5b6472")
    slot = (width - left - right) / n
    bar = slot * 0.62
    for i, month in enumerate(months):
        x = left + i * slot + (slot - bar) / 2
        up, down = 0.0, 0.0
        for category, values in series.items():
            value = values[i]
            if value > 0:
                scene.rect(
                    x, y_of(up + value), bar, y_of(up) - y_of(up + value), COLOURS.get(category, "#999999")
                )
                up += value
            elif value < 0:
                scene.rect(
                    x, y_of(down), bar, y_of(down + value) - y_of(down), COLOURS.get(category, "#999999")
                )
                down += value
        scene.text(
            x + bar / 2,
            height - bottom + 14,
            month[5:] if len(month) == 7 else month,
            size=10,
            anchor="middle",
        )
    _legend(scene, [c for c in series if any(series[c])], labels, y=height - 22)
    return scene


def category_chart(values: dict[str, float], labels: dict[str, str], *, unit: str) -> Scene:
    """Horizontal bars, one per source category with a non-zero value."""
    shown = [(c, v) for c, v in values.items() if v]
    width, row = 640, 26
    left, right, top = 150, 90, 10
    height = top * 2 + row * max(len(shown), 1)
    scene = Scene(width, height)
    if not shown:
        return scene
    low = min(0.0, *(v for _, v in shown))
    high = max(0.0, *(v for _, v in shown))
    span = (high - low) or 1.0
    plot_w = width - left - right

    def x_of(value: float) -> float:
        return left + (value - low) / span * plot_w

    zero = x_of(0.0)
    for i, (category, value) in enumerate(shown):
        y = top + i * row
        start, end = sorted((zero, x_of(value)))
        scene.rect(start, y + 4, end - start, row - 8, COLOURS.get(category, "#999999"))
        scene.text(left - 8, y + row / 2 + 4, labels.get(category, category), size=11, anchor="end")
        scene.text(max(end, zero) + 6, y + row / 2 + 4, f"{value:,.2f} {unit}", size=10, fill="#5b6472")
    scene.line(zero, top, zero, height - top, stroke="#5b6472")
    return scene


def _legend(scene: Scene, categories: list[str], labels: dict[str, str], *, y: float) -> None:
    x = 56.0
    for category in categories:
        label = labels.get(category, category)
        scene.rect(x, y - 9, 10, 10, COLOURS.get(category, "#999999"))
        scene.text(x + 14, y, label, size=10)
        x += 22 + 11 * _display_width(label) * 0.62
        if x > scene.width - 80:
            break


def _display_width(text: str) -> float:
    """Width in 'narrow characters': CJK characters count about double."""
    return sum(1.6 if ord(ch) > 0x2E80 else 1.0 for ch in text)
