"""What a run is and how it travels: the sidebar's settings, shared links, session files,
run configurations and exports."""
