"""The app's screens: picker, run, compare, export, help and the new-scenario form."""
