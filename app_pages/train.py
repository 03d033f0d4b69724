"""Full training: train the sidebar's network for real, on NumPy or PyTorch (GPU if there)."""

from explorer.ui.full_training_view import train_page
from explorer.ui.page import setup

run = setup()
train_page(run)
