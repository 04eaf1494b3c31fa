"""Check-in instruments: versioned questionnaires written as files in prompts/."""
