"""Benchmark of tap-magento2 and target-dropstream against the raw limits (``make bench``)."""
