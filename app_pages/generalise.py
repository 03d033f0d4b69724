"""Generalisation: train and test accuracy on digits the network never saw, and a check."""

from explorer.ui.generalise_view import generalise_page
from explorer.ui.page import setup

run = setup()
generalise_page(run)
