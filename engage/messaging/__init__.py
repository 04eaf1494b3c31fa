"""SMS in and out: every message stored, Twilio kept behind one adapter."""
