"""The accounts app listens to nothing yet; the module exists so ready() has one place to look."""
