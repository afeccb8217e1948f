"""One module of pages per role; each calls the same services as the API."""
