"""Geography: county boundaries, areas, coordinates, footprints."""
