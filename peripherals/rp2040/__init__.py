"""RP2040 peripheral models (RP2040 datasheet, build-date 2021-03 and later revisions)."""
