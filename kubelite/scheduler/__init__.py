"""kubelite's scheduler: the scheduling queue, the framework, the columnar node table and
the default plugins."""
