"""Marshmallow schemas: the typed request and response shapes the OpenAPI document is built from."""
