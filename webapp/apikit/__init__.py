"""What every app's JSON API shares: a hostile-input-safe JSON parser, one error format,
bounded pagination and whole-number query parameters. Settings point DRF at these."""
