"""Check-in conversations by SMS: parsing replies, keywords, the engine, the webhook flow."""
