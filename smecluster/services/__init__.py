"""The service layer: what the CLI and the web both call. One noun a module."""
