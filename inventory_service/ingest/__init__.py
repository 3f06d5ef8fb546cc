"""Device ingest: MQTT and serial scanners in, typed readings to services."""
