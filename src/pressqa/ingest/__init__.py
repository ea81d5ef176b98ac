"""Ingestion: parse releases from files and exports, chunk, fingerprint, embed, store."""
