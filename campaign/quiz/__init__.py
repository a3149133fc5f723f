"""Quiz scoring (answers + municipality facts → ranked municipalities with reasons)
and the signed outcome a family carries to the lead form."""
