"""The co-design backlog: ideas from patients and parents."""
