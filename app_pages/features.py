"""Features: hand-made features against the ones an MLP learns, on the digits."""

from explorer.ui.features_view import features_page
from explorer.ui.page import setup

run = setup()
features_page(run)
