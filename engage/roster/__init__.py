"""Roster import: a center's CSV export of patients, caregivers, phones, enrollments and visits.

``mapping`` reads the mapping file (which column holds what, how values read);
``reading`` decodes the CSV and translates each row; ``importer`` compares the
rows with what the database holds and writes the differences in bulk; ``cli``
is ``flask engage import``.
"""
