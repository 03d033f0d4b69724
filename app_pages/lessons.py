"""Lessons: guided steps through backpropagation, each stepped in place beside its network."""

from explorer.ui.lessons_view import lessons_page

lessons_page()
