"""CityFrame's data model: layers, metadata, styles, the registry and the workspace."""
