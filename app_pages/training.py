"""Training views: what the network has learned, and training for N epochs with a Stop button."""

from explorer.ui.learned_view import training_page
from explorer.ui.page import setup

run = setup()
training_page(run)
