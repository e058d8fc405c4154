"""Oqu's grading engine: nbgrader semantics without a course directory. Never imports ``lms``."""
