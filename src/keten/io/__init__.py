"""Reading and writing files: the edge where data enters the pure domain code."""
