"""Encryption at rest: an EncryptionConfiguration's providers seal the configured
resources' values on their way to the store and open them on the way back."""
