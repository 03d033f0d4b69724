"""Compare: activations and other settings side by side, on the same seed and batches."""

from explorer.ui.compare_view import compare_page
from explorer.ui.page import setup

compare_page(setup())
