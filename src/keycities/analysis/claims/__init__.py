"""Published claims: the registry (claims.yaml) and its audit against recomputed figures."""
