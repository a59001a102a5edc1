"""Counts for the county (SPEC §7): monitoring objects by type, risk and area, cases by step,
identifications and eliminations per month, evaluations due. Read services only."""
