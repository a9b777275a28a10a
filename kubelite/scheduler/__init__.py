"""kubelite's scheduler: the framework, the columnar node table and the default plugins."""
