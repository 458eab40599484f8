"""WCAG 2 contrast, shared by the source checks (venue colours) and preflight
(every text run against its background)."""

from __future__ import annotations

# WCAG 2 AAA for body text: every text run, and white text on a venue colour.
MIN_CONTRAST = 7.0


def hex_to_rgb(colour: str) -> tuple[float, float, float]:
    """`#1B3A5C` -> sRGB components from 0 to 1."""
    return tuple(int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5))


def luminance(rgb) -> float:
    """Relative luminance of sRGB components (0-1)."""
    def linear(channel: float) -> float:
        channel = min(max(channel, 0.0), 1.0)
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(channel) for channel in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(rgb_a, rgb_b) -> float:
    lighter, darker = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
