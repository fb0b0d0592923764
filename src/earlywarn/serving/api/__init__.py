"""The JSON API: one router per resource; what they share with the office page is
``serving.deps``."""
