"""The audit log: who looked at or changed whose data, and when. Append-only."""
