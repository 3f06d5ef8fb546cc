"""Equipment maintenance rules: when a plan is due (calendar, usage, or both)."""
