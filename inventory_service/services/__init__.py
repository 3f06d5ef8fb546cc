"""Use cases. Each takes a unit of work and a `Context` (who, from where, and when)."""
