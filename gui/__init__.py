"""CityFrame's PySide6 widgets (thin: they bind to layers/ models and call spatial/)."""
