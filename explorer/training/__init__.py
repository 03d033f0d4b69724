"""Full training in chunks, on either backend, and its command line."""
