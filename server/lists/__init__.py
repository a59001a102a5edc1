"""The phones' lists: a change counter per area and list, kept by database triggers, from which
the manifest's hash of a generated attachment comes at constant cost (see docs/protocol.md)."""
