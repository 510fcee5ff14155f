"""Pure computation over Polars frames. Imports neither Django nor settings."""

ENGINE_VERSION = "0.1.0"
