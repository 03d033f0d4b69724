"""Why GPUs: the same training raced on NumPy, torch on the CPU and torch on a GPU."""

from explorer.ui.page import setup
from explorer.ui.race_view import gpus_page

setup()
gpus_page()
