"""Personal-data protection: keyed pseudonymisation, masking policies and the leak gate."""
