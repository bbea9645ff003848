"""CityFrame's Qt-free spatial engine: CRSs, schema, validation, queries and analyses."""
