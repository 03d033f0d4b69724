"""Lessons: guided steps through backpropagation, each one click from the Explorer."""

from explorer.ui.lessons_view import lessons_page
from explorer.ui.page import setup

setup()
lessons_page()
