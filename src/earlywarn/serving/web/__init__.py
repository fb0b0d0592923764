"""The office's web page: the daily risk list, a case, trends (served by the API app)."""
