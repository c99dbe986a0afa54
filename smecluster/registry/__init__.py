"""Registry: regions, industries, enterprises, platforms, clusters and yearly indicators."""
