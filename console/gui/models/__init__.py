"""Qt item models of the console: record tables with a filter/sort proxy, the restore point timeline and the
lazy file tree of a restore point."""
