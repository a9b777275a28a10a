"""Server-side Table output (`kubectl get`): see kubelite.apiserver.printers.

This module is the stable entry point the HTTP layer imports.
"""

from __future__ import annotations

from kubelite.apiserver.printers import printer_for, table_for

__all__ = ["printer_for", "table_for"]
