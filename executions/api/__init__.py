"""The JSON API (web process): thin views over the services and selectors, with the error envelope."""
