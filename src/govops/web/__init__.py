"""The web layer: the FastAPI application, its error handling and shared dependencies."""
