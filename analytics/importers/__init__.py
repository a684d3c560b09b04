"""Importers that turn published open data into an area pack (see ../../shared/SCHEMA.md)."""
