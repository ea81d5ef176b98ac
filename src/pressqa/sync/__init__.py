"""Keeping an archive current: sources (feeds, sitemaps, listing pages, folders) and their syncs."""
