"""Training views: what the network has learned, and training for N epochs with a Stop button."""

from explorer.ui.page import setup
from explorer.ui.training_view import training_page

run = setup()
training_page(run)
