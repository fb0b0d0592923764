"""The outside world: score API, daily risk list, office page, authentication, audit, storage."""
