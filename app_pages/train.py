"""Full training: train the sidebar's network for real, on NumPy or PyTorch (GPU if there)."""

from explorer.ui.page import setup
from explorer.ui.train_view import train_page

run = setup()
train_page(run)
