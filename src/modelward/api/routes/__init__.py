"""Route modules of the service, one per resource."""
