"""Explorer: build a network in the sidebar, step through training phase by phase."""

from explorer.ui.explorer_view import explorer_page
from explorer.ui.page import setup

explorer_page(setup())
