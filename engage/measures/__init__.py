"""QI measures: weekly figures per center and network-wide, as run charts, CSV and JSON."""
