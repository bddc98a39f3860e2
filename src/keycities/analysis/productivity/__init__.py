"""The productivity-gap calculator: the formula, its parameters, the store adapter."""
