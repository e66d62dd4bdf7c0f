"""The `pathgrad` command."""
