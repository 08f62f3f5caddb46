"""Cross-article resolution: duplicates, quote variants, actors, stories."""
