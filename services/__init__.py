"""The bureau's data services for other agencies (``lakehouse serve``): OAuth 2.0 client
credentials, document-free e-verification answered as signed JWS, and the published datasets
by version. An entry point, like the CLI: it reads Delta through ``deltalake`` (no JVM)."""
