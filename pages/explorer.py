"""Explorer: build a network in the sidebar, step through training phase by phase."""

from explorer.ui.explorer_view import explorer_page
from explorer.ui.session import sync
from explorer.ui.sidebar import settings_sidebar

settings, dataset = settings_sidebar()
explorer_page(sync(settings, dataset))
