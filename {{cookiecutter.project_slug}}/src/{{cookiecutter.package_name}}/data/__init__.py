"""Reading, generating and splitting data (P2: the data pipeline comes first)."""
