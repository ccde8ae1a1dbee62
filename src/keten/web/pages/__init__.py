"""HTML pages; each module defines ``router = ui.page_router()``."""
