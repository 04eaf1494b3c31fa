"""Staff sign-in: password hashes, throttling, sessions, CSRF, and who may see what."""
