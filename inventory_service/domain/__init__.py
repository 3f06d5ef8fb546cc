"""Pure rules of the clinic: standard library only, time always an argument."""
