"""Kiln: an open-source industrial carbon platform (工业碳平台)."""

__version__ = "0.1.0"
