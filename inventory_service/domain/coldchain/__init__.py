"""Cold-chain rules: ranges, the reading timeline, excursions, alarm rules, MKT (pure, time as argument)."""
