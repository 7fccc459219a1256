"""JSON schemas of the tap streams, one file per stream name."""
