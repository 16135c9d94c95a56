"""Working-area pages of the main window (jobs, repositories) and the widgets they share."""
