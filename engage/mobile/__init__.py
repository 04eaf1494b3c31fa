"""The patients' and parents' API: sign-in by SMS code, their check-ins, ideas and preferences."""
