"""The bottom layer: types, errors, units and the small helpers every stage shares."""
