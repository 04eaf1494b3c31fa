"""Pre-visit review for clinicians: clinic day, patient summary, charts, alerts."""
